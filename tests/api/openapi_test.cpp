// Keeps the OpenAPI document and the route table in step, in both directions.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "embedded/embedded.h"
#include "tests/support/test_server.h"

namespace {

// The API: everything under /v1/, plus the receipts' public keys at /.well-known/jwks.json. The
// console's files (/, /console/...) are not part of the API document.
bool in_api_document(const std::string& path) {
  return path.starts_with("/v1/") || path == "/.well-known/jwks.json";
}

}  // namespace

TEST_CASE("every registered route is in the OpenAPI document and every documented route exists") {
  testing::TestServer server;
  const auto document = nlohmann::json::parse(embedded::kOpenApiJson);
  CHECK(document["openapi"] == "3.1.0");

  std::set<std::string> documented;
  for (const auto& [path, item] : document["paths"].items()) {
    CHECK_MESSAGE(in_api_document(path), path);
    for (const auto& [method, operation] : item.items()) {
      if (method == "parameters" || method == "summary" || method == "description") continue;
      std::string upper = method;
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      documented.insert(upper + " " + path);
      CHECK_MESSAGE(operation.contains("responses"), upper, " ", path);
    }
  }
  const auto signatures = server.application().router().signatures();
  std::set<std::string> registered;
  for (const auto& signature : signatures) {
    if (in_api_document(signature.substr(signature.find(' ') + 1))) registered.insert(signature);
  }
  for (const auto& route : registered) CHECK_MESSAGE(documented.count(route) == 1, "undocumented route: ", route);
  for (const auto& route : documented) CHECK_MESSAGE(registered.count(route) == 1, "documented but missing: ", route);
}

TEST_CASE("the document is served at /v1/openapi.json") {
  testing::TestServer server;
  auto client = server.client();
  const auto exchange = testing::perform(client, "GET", "/v1/openapi.json");
  CHECK(exchange.status == 200);
  CHECK(exchange.body == nlohmann::json::parse(embedded::kOpenApiJson));
}
