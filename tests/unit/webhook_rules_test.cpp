// Pure rules of webhooks: the SSRF address classes, URL parsing and both signatures.
#include <doctest/doctest.h>

#include "core/net_guard.h"
#include "core/webhooks.h"

TEST_CASE("forbidden addresses: loopback, private, link-local, CGNAT, metadata, in every IPv6 form") {
  struct Case {
    const char* address;
    const char* reason;
  };
  for (const auto& c : std::vector<Case>{{"127.0.0.1", "loopback"},
                                         {"127.255.255.254", "loopback"},
                                         {"10.1.2.3", "private"},
                                         {"172.16.0.1", "private"},
                                         {"172.31.255.255", "private"},
                                         {"192.168.1.1", "private"},
                                         {"169.254.169.254", "metadata"},
                                         {"169.254.1.1", "link-local"},
                                         {"100.64.0.1", "CGNAT"},
                                         {"100.127.255.255", "CGNAT"},
                                         {"0.0.0.0", "unspecified"},
                                         {"224.0.0.1", "multicast"},
                                         {"::1", "loopback"},
                                         {"::", "unspecified"},
                                         {"::ffff:127.0.0.1", "loopback"},
                                         {"::ffff:10.0.0.1", "private"},
                                         {"::ffff:169.254.169.254", "metadata"},
                                         {"64:ff9b::a9fe:a9fe", "metadata"},
                                         {"2002:7f00:1::", "loopback"},
                                         {"fc00::1", "private"},
                                         {"fd00:ec2::254", "metadata"},
                                         {"fe80::1", "link-local"},
                                         {"ff02::1", "multicast"}}) {
    CAPTURE(c.address);
    CHECK(core::forbidden_address_reason(c.address) == c.reason);
  }
  for (const char* allowed : {"93.184.216.34", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700::1111",
                              "::ffff:93.184.216.34"}) {
    CAPTURE(allowed);
    CHECK(core::forbidden_address_reason(allowed).empty());
  }
  CHECK_FALSE(core::forbidden_address_reason("example.com").empty());
}

TEST_CASE("webhook URLs: http(s) only, no credentials, host and port checked") {
  std::string problem;
  const auto parsed = core::parse_url("https://hooks.example.com:8443/in?x=1#frag", &problem);
  REQUIRE(parsed);
  CHECK(parsed->scheme == "https");
  CHECK(parsed->host == "hooks.example.com");
  CHECK(parsed->port == 8443);
  CHECK(parsed->target == "/in?x=1");
  CHECK(core::parse_url("http://[::1]:9000", &problem)->host == "::1");
  CHECK(core::parse_url("https://example.com", &problem)->target == "/");
  CHECK(core::parse_url("https://example.com", &problem)->port == 443);
  for (const char* bad : {"ftp://example.com/", "example.com/hook", "https://user:pass@example.com/", "https://@example.com",
                          "https:///path", "https://example.com:99999/", "https://example.com:x/", "https://exa mple.com/",
                          "https://example.com/a b"}) {
    CAPTURE(bad);
    CHECK_FALSE(core::parse_url(bad, &problem).has_value());
  }
}

TEST_CASE("signatures: Standard Webhooks' published example and our sha256= header") {
  // From the Standard Webhooks specification's example.
  const auto standard =
      core::sign_webhook({"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                         R"({"test": 2432232314})");
  CHECK(standard.standard == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  // HMAC-SHA256 of the body keyed with the whole secret string (checked with Python's hmac).
  const auto ours = core::sign_webhook({"whsec_0123"}, "id", 1, "{}");
  CHECK(ours.cobinar == "sha256=6bcabb2b0aea6ba183451f8c15d42c0d518c035263ce15c35659903013b5a928");
  // Two live secrets: one signature each, space-separated, current first.
  const auto both = core::sign_webhook({"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_0123"}, "id", 1, "{}");
  CHECK(both.cobinar.find(' ') != std::string::npos);
  CHECK(both.cobinar.substr(both.cobinar.find(' ') + 1) == ours.cobinar);
  CHECK(both.standard.starts_with("v1,"));
  CHECK(both.standard.find(" v1,") != std::string::npos);
}
