// URL parsing and the SSRF guard for outgoing webhooks: which resolved addresses a delivery
// may connect to. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace core {

struct ParsedUrl {
  std::string scheme;  // http | https
  std::string host;    // without brackets for IPv6 literals
  int port = 0;
  std::string target;  // path and query, at least "/"
};

// nullopt with `problem` set for anything that is not a plain http(s) URL without userinfo.
std::optional<ParsedUrl> parse_url(std::string_view url, std::string* problem);

// Why `address` (a numeric IPv4/IPv6 address) must not be connected to: "loopback",
// "private", "link-local", "CGNAT", "metadata", ... or empty if it is a public address.
// IPv4-mapped, NAT64 and 6to4 IPv6 forms are judged by the IPv4 address they carry.
std::string forbidden_address_reason(std::string_view address);

}  // namespace core
