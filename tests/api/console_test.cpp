// The web console's files: where they are, what protects them, and how they are cached.
// The console's behaviour in a browser is tested with Chromium (tests/console/).
#include <doctest/doctest.h>

#include "embedded/kConsoleFiles.h"
#include "tests/support/test_server.h"

namespace {

std::string header(const testing::Exchange& exchange, const std::string& name) {
  const auto found = exchange.headers.find(name);
  return found == exchange.headers.end() ? std::string() : found->second;
}

void check_console_headers(const testing::Exchange& exchange) {
  const std::string policy = header(exchange, "Content-Security-Policy");
  CHECK(policy.find("default-src 'self'") != std::string::npos);
  CHECK(policy.find("frame-ancestors 'none'") != std::string::npos);
  CHECK(policy.find("script-src 'self';") != std::string::npos);
  CHECK(policy.find("unsafe-inline") == std::string::npos);
  CHECK(policy.find("unsafe-eval") == std::string::npos);
  CHECK(header(exchange, "X-Content-Type-Options") == "nosniff");
  CHECK(header(exchange, "Referrer-Policy") == "no-referrer");
}

}  // namespace

TEST_CASE("the console: redirects, files, types and security headers") {
  testing::TestServer server;
  auto client = server.client();
  struct Row {
    std::string path;
    int status;
    std::string location;      // for redirects
    std::string content_type;  // for files
  };
  const std::vector<Row> rows{
      {"/", 302, "/console/", ""},
      {"/console", 302, "/console/", ""},
      {"/console/", 200, "", "text/html; charset=utf-8"},
      {"/console/index.html", 200, "", "text/html; charset=utf-8"},
      {"/console/main.js", 200, "", "text/javascript; charset=utf-8"},
      {"/console/api.js", 200, "", "text/javascript; charset=utf-8"},
      {"/console/app.css", 200, "", "text/css; charset=utf-8"},
      {"/console/favicon.svg", 200, "", "image/svg+xml"},
  };
  for (const auto& row : rows) {
    CAPTURE(row.path);
    const auto exchange = testing::perform(client, "GET", row.path);
    CHECK(exchange.status == row.status);
    check_console_headers(exchange);
    if (!row.location.empty()) CHECK(header(exchange, "Location") == row.location);
    if (!row.content_type.empty()) {
      CHECK(header(exchange, "Content-Type") == row.content_type);
      CHECK(!header(exchange, "ETag").empty());
      CHECK(header(exchange, "Cache-Control") == "no-cache");
      CHECK(!exchange.raw_body.empty());
    }
  }
}

TEST_CASE("the console: unknown files are 404 in the error envelope, other methods 405") {
  testing::TestServer server;
  auto client = server.client();
  testing::run_scenarios(server, {
      {"unknown file", "GET", "/console/nope.js", "", "", {}, 404, "NOT_FOUND"},
      {"a directory below is not a file", "GET", "/console/a/b.js", "", "", {}, 404, "NOT_FOUND"},
      {"dot-dot is only a name", "GET", "/console/..%2Fschema.sql", "", "", {}, 404, "NOT_FOUND"},
      {"POST to the console", "POST", "/console/", "{}", "application/json", {}, 405, "METHOD_NOT_ALLOWED"},
      {"POST to the root", "POST", "/", "{}", "application/json", {}, 405, "METHOD_NOT_ALLOWED"},
  });
}

TEST_CASE("the console: ETag revalidation answers 304 without a body; a changed tag gets the file") {
  testing::TestServer server;
  auto client = server.client();
  const auto first = testing::perform(client, "GET", "/console/app.css");
  REQUIRE(first.status == 200);
  const std::string tag = header(first, "ETag");
  REQUIRE(tag.size() > 2);

  const auto same = testing::perform(client, "GET", "/console/app.css", "", "", {{"If-None-Match", tag}});
  CHECK(same.status == 304);
  CHECK(same.raw_body.empty());
  CHECK(header(same, "ETag") == tag);
  check_console_headers(same);

  const auto listed = testing::perform(client, "GET", "/console/app.css", "", "", {{"If-None-Match", "\"x\", W/" + tag}});
  CHECK(listed.status == 304);

  const auto other = testing::perform(client, "GET", "/console/app.css", "", "", {{"If-None-Match", "\"0000\""}});
  CHECK(other.status == 200);
  CHECK(other.raw_body == first.raw_body);

  // Each file has its own tag.
  CHECK(header(testing::perform(client, "GET", "/console/main.js"), "ETag") != tag);
}

TEST_CASE("the console is self-contained: no file refers to another origin, and it stays small") {
  std::size_t total = 0;
  for (const auto& file : embedded::kConsoleFiles) {
    CAPTURE(std::string(file.name));
    total += file.bytes.size();
    // Anything that would make the browser load from elsewhere: markup, CSS, module imports, fetch.
    const std::string text(file.bytes);
    for (const std::string_view foreign : {"src=\"http", "href=\"http", "url(", "@import", "from 'http", "from \"http",
                                           "fetch('http", "fetch(\"http", "fetch(`http", "//cdn", "googleapis"}) {
      CHECK_MESSAGE(text.find(foreign) == std::string::npos, foreign);
    }
    CHECK(text.find("localStorage") == std::string::npos);
    if (file.name.ends_with(".html")) {
      CHECK(std::string(file.bytes).find("<script>") == std::string::npos);
      CHECK(std::string(file.bytes).find("style=") == std::string::npos);
    }
  }
  CHECK(total < 200 * 1024);
}
