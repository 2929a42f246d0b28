// Phone numbers (SPEC §14) and the per-application OTP policy (§15) through the real server,
// on either engine: the lookup table, what a send accepts under each numberValidation mode,
// one identity per number however it is written, the policy's GET/PUT and what a send and a
// verify do under it.
#include <doctest/doctest.h>

#include <regex>

#include "core/templates.h"
#include "tests/support/phone_table.h"
#include "tests/support/policy_tables.h"
#include "tests/support/sandbox.h"

using namespace std::chrono_literals;
using nlohmann::json;
using testing::perform;

namespace {

testing::Exchange send_body(testing::Sandbox& sandbox, const testing::AppCredentials& app, const json& body) {
  return perform(sandbox.client, "POST", "/v1/otp/send", body.dump(), "application/json", app.headers());
}

testing::Exchange put_policy(testing::Sandbox& sandbox, const testing::AppCredentials& app, const json& policy) {
  return sandbox.console("PUT", "/v1/applications/" + app.id + "/policy", policy);
}

testing::TestServerOptions generous(std::vector<std::string> allow_prefixes = {}) {
  return {[=](app::Config& config) {
            config.otp.send_rate_limit = 1000;
            config.otp.verify_rate_limit = 1000;
            config.otp.phone_send_limit = 1000;
            config.otp.phone_allow_prefixes = allow_prefixes;
          },
          nullptr};
}

}  // namespace

TEST_CASE("the phone number lookup, one row per number") {
  testing::TestServer server;
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto& rows = testing::kPhoneTable;
  for (const auto& row : rows) {
    CAPTURE(row.input);
    CAPTURE(row.region);
    const std::string path =
        "/v1/phone-numbers/" + core::url_encode(row.input) + (row.region.empty() ? "" : "?region=" + row.region);
    const auto answer = sandbox.console("GET", path);
    REQUIRE(answer.status == 200);
    const json& data = answer.body["data"];
    CHECK(data["e164"] == row.e164);
    CHECK(data["phone"] == row.phone);
    CHECK(data["valid"] == row.valid);
    CHECK(data["possible"] == row.possible);
    CHECK(data["reason"] == row.reason);
    CHECK(data["region"] == row.number_region);
    CHECK(data["countryCallingCode"] == row.country_code);
    CHECK(data["numberType"] == row.type);
    CHECK(data["nationalFormat"] == row.national);
    CHECK(data["metadataVersion"].is_string());
    if (row.e164.is_string()) CHECK(data["internationalFormat"] == row.phone);
  }
}

TEST_CASE("the lookup's own errors and its two ways in") {
  testing::TestServer server;
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app("live", "Shop");
  testing::run_scenarios(
      server, {
                  {"no credentials", "GET", "/v1/phone-numbers/%2B447911123456", "", "", {}, 401, "UNAUTHENTICATED"},
                  {"a wrong API key", "GET", "/v1/phone-numbers/%2B447911123456", "", "", {{"x-api-key", "ph_live_api_" + std::string(48, 'a')}}, 401, "UNAUTHENTICATED"},
                  {"the API key alone", "GET", "/v1/phone-numbers/%2B447911123456", "", "", {{"x-api-key", app.api_key}}, 200, ""},
                  {"a malformed region", "GET", "/v1/phone-numbers/07911123456?region=GBR", "", "", {{"x-api-key", app.api_key}}, 400, "INVALID_ARGUMENT"},
                  {"a region of digits", "GET", "/v1/phone-numbers/07911123456?region=12", "", "", {{"x-api-key", app.api_key}}, 400, "INVALID_ARGUMENT"},
                  {"over 64 characters", "GET", "/v1/phone-numbers/" + std::string(65, '1'), "", "", {{"x-api-key", app.api_key}}, 400, "INVALID_ARGUMENT"},
                  {"only spaces", "GET", "/v1/phone-numbers/%20%20", "", "", {{"x-api-key", app.api_key}}, 400, "INVALID_ARGUMENT"},
                  {"an unknown but well-formed region is an answer", "GET", "/v1/phone-numbers/07911123456?region=XX", "", "", {{"x-api-key", app.api_key}}, 200, ""},
              });
  const auto answer = sandbox.console("GET", "/v1/phone-numbers/07911123456?region=XX");
  CHECK(answer.body["data"]["reason"] == "INVALID_COUNTRY_CODE");
}

TEST_CASE("what a send accepts under each numberValidation mode, one row per case") {
  testing::TestServer server(generous());
  testing::Sandbox sandbox(server, "ann@example.com");
  struct Row {
    std::string mode;
    json policy_region;  // defaultRegion
    json body;
    int status;
    json phone;           // display, when accepted
    std::string reason;   // details.reason, when refused
    json number_region;
    std::string type;
  };
  const json null = nullptr;
  const std::vector<Row> rows = {
      {"valid", null, {{"phone", "+44 (0) 7911 123456"}}, 201, "+44 7911 123456", "", "GG", "mobile"},
      {"valid", null, {{"phone", "+44 7700 900123"}}, 400, null, "INVALID_FOR_REGION", null, ""},
      {"valid", null, {{"phone", "07911 123456"}}, 400, null, "INVALID_COUNTRY_CODE", null, ""},
      {"valid", null, {{"phone", "07911 123456"}, {"region", "GB"}}, 201, "+44 7911 123456", "", "GG", "mobile"},
      {"valid", "GB", {{"phone", "07911 123456"}}, 201, "+44 7911 123456", "", "GG", "mobile"},
      {"valid", "GB", {{"phone", "(415) 555-2671"}, {"region", "US"}}, 201, "+1 415-555-2671", "", "US", "fixed_line_or_mobile"},
      {"valid", null, {{"phone", "+44 79"}}, 400, null, "TOO_SHORT", null, ""},
      {"valid", null, {{"phone", "+44 7911 1234567890"}}, 400, null, "TOO_LONG", null, ""},
      {"valid", null, {{"phone", "+1 415 CALL NOW"}}, 400, null, "NOT_A_NUMBER", null, ""},
      {"valid", null, {{"phone", "+44 901 234 5678"}}, 201, "+44 901 234 5678", "", "GB", "premium_rate"},
      {"valid", null, {{"phone", "+999 482 918 102"}}, 201, "+999 482 918 102", "", null, "virtual"},
      {"possible", null, {{"phone", "+44 7700 900123"}}, 201, "+44 7700 900123", "", null, "unknown"},
      {"possible", null, {{"phone", "+44 79"}}, 400, null, "TOO_SHORT", null, ""},
      {"possible", null, {{"phone", "+44 7911 123456"}}, 201, "+44 7911 123456", "", "GG", "mobile"},
      {"off", null, {{"phone", "+44 7700 900123"}}, 201, "+44 7700 900123", "", null, "unknown"},
      {"off", null, {{"phone", "+44 7911 2345"}}, 201, "+44 79112345", "", null, "unknown"},
      {"off", null, {{"phone", "+292 123 4567"}}, 201, "+2921234567", "", null, "unknown"},
      {"off", null, {{"phone", "+1234"}}, 400, null, "TOO_SHORT", null, ""},
      {"off", null, {{"phone", "+0 123 4567 89"}}, 400, null, "INVALID_COUNTRY_CODE", null, ""},
      {"off", null, {{"phone", "+999 482 918 103"}}, 201, "+999 482 918 103", "", null, "virtual"},
  };
  std::map<std::string, testing::AppCredentials> apps;
  for (const auto& row : rows) {
    CAPTURE(row.mode);
    CAPTURE(row.body.dump());
    const std::string key = row.mode + (row.policy_region.is_null() ? "" : row.policy_region.get<std::string>());
    if (!apps.contains(key)) {
      apps[key] = sandbox.create_app("test", "App " + key);
      REQUIRE(put_policy(sandbox, apps[key], {{"numberValidation", row.mode}, {"defaultRegion", row.policy_region}}).status == 200);
    }
    const auto sent = send_body(sandbox, apps[key], row.body);
    REQUIRE(sent.status == row.status);
    if (row.status == 201) {
      CHECK(sent.body["data"]["phone"] == row.phone);
      CHECK(sent.body["data"]["region"] == row.number_region);
      CHECK(sent.body["data"]["numberType"] == row.type);
      const auto read = sandbox.console("GET", "/v1/otp/" + sent.body["data"]["requestId"].get<std::string>());
      CHECK(read.body["data"]["region"] == row.number_region);
      CHECK(read.body["data"]["numberType"] == row.type);
    } else {
      CHECK(sent.body["error"]["code"] == "INVALID_ARGUMENT");
      CHECK(sent.body["error"]["details"]["reason"] == row.reason);
      CHECK(sent.body["error"]["details"]["fields"]["phone"].is_string());
    }
  }
  const auto app = apps.begin()->second;
  CHECK(send_body(sandbox, app, {{"phone", "+447911123456"}, {"region", "GBR"}}).body["error"]["details"]["fields"].contains("region"));
  CHECK(send_body(sandbox, app, {{"phone", "+447911123456"}, {"region", 44}}).status == 400);
  CHECK(send_body(sandbox, app, {{"phone", "+447911123456"}, {"region", nullptr}}).status == 201);
}

TEST_CASE("one identity for every spelling of a number; users, inbox and path parameters share the parser") {
  testing::TestServer server(generous());
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app("test", "Shop");
  for (const std::string spelling : {"+44 (0) 7911 123456", "+447911123456", "+44-7911-123-456"}) {
    const auto sent = sandbox.send(app, spelling);
    REQUIRE(sent.status == 201);
    REQUIRE(sandbox.verify(app, sent.body["data"]["requestId"], sent.body["data"]["testCode"]).status == 200);
  }
  const auto users = sandbox.console("GET", "/v1/users");
  REQUIRE(users.body["data"].size() == 1);
  const json& user = users.body["data"][0];
  CHECK(user["phoneNumber"] == "+44 7911 123456");
  CHECK(user["verificationCount"] == 3);
  CHECK(user["region"] == "GG");
  CHECK(user["numberType"] == "mobile");
  for (const std::string path : {"%2B44%20(0)%207911%20123456", "%2B447911123456", "+447911123456"}) {
    CAPTURE(path);
    const auto found = sandbox.console("GET", "/v1/users/" + path);
    CHECK(found.status == 200);
    CHECK(found.body["data"]["phoneNumber"] == "+44 7911 123456");
  }
  CHECK(sandbox.console("GET", "/v1/users/%2B447911123457").status == 404);
  CHECK(sandbox.console("GET", "/v1/inbox?phone=%2B44%20(0)%207911%20123456").body["data"].size() == 3);
  CHECK(sandbox.console("GET", "/v1/inbox?phone=not-a-number").status == 400);
}

TEST_CASE("the policy: defaults, a PUT that replaces it, refusals with every field, previews, tenant walls") {
  testing::TestServer server;
  testing::Sandbox sandbox(server, "ann@example.com");
  testing::Sandbox other(server, "bob@example.com");
  const auto app = sandbox.create_app("test", "Shop");
  const std::string path = "/v1/applications/" + app.id + "/policy";

  const auto defaults = sandbox.console("GET", path);
  REQUIRE(defaults.status == 200);
  const json expected_defaults = {
      {"codeLength", 6},
      {"codeAlphabet", "digits"},
      {"ttlSeconds", 300},
      {"maxAttempts", 5},
      {"defaultLocale", "en"},
      {"templates", {{"en", "{code} is your {app} verification code. It expires in {minutes} minutes."}}},
      {"defaultRegion", nullptr},
      {"numberValidation", "valid"},
      // SPEC §17's abuse fields (tests/api/abuse_test.cpp covers them).
      {"allowedCountries", nullptr},
      {"blockedCountries", json::array()},
      {"allowedNumberTypes", nullptr},
      {"blockedNumberTypes", {"premium_rate", "shared_cost"}},
      {"dailySendLimit", nullptr},
      {"safeList", json::array()},
      {"conversionBreaker",
       {{"enabled", true}, {"prefixLength", 6}, {"windowSeconds", 3600}, {"minSends", 20}, {"minConversion", 0.2},
        {"blockSeconds", 43200}}},
      {"templatePreview",
       {{"en",
         {{"text", "482917 is your Shop verification code. It expires in 5 minutes."},
          {"encoding", "GSM-7"},
          {"characters", 63},
          {"segments", 1}}}}}};
  CHECK(defaults.body["data"] == expected_defaults);

  const auto refused = sandbox.console(
      "PUT", path,
      {{"codeLength", 4}, {"maxAttempts", 5}, {"ttlSeconds", 10}, {"templates", {{"en", "{code}"}, {"de", "Code: {kode}"}}}});
  CHECK(refused.status == 400);
  CHECK(refused.body["error"]["code"] == "INVALID_ARGUMENT");
  const json& fields = refused.body["error"]["details"]["fields"];
  CHECK(fields.size() == 3);
  CHECK(fields["codeLength"].get<std::string>().find("1 in 2,000") != std::string::npos);
  CHECK(fields.contains("ttlSeconds"));
  CHECK(fields.contains("templates.de"));
  CHECK(sandbox.console("GET", path).body["data"] == expected_defaults);

  const auto curly = "Dein \xe2\x80\x9e{app}\xe2\x80\x9c-Code: {code}. G\xc3\xbcltig {minutes} Minuten.";
  const auto put = sandbox.console("PUT", path,
                                   {{"codeLength", 8},
                                    {"templates", {{"en", "{code} is your {app} code"}, {"de", curly}}},
                                    {"templatePreview", {{"en", "ignored"}}},
                                    {"unknownField", true}});
  REQUIRE(put.status == 200);
  const json& policy = put.body["data"];
  CHECK(policy["codeLength"] == 8);
  CHECK(policy["maxAttempts"] == 5);  // left out: the default
  CHECK(policy["ttlSeconds"] == 300);
  CHECK_FALSE(policy.contains("unknownField"));
  CHECK(policy["templatePreview"]["en"] ==
        json{{"text", "48291750 is your Shop code"}, {"encoding", "GSM-7"}, {"characters", 26}, {"segments", 1}});
  CHECK(policy["templatePreview"]["de"]["encoding"] == "UCS-2");
  CHECK(policy["templatePreview"]["de"]["text"] == "Dein \xe2\x80\x9eShop\xe2\x80\x9c-Code: 48291750. G\xc3\xbcltig 5 Minuten.");
  CHECK(policy["templatePreview"]["de"]["characters"] == 45);
  CHECK(policy["templatePreview"]["de"]["segments"] == 1);
  CHECK(sandbox.console("GET", path).body["data"] == policy);

  // Another developer's application is indistinguishable from an unknown one.
  CHECK(other.console("GET", path).status == 404);
  CHECK(other.console("PUT", path, json::object()).status == 404);
  CHECK(other.console("PUT", path, {{"codeLength", 1}}).status == 404);
  CHECK(sandbox.console("GET", "/v1/applications/nope/policy").status == 404);
  CHECK(sandbox.console("GET", path).body["data"] == policy);
  testing::run_scenarios(server, {
                                     {"no token", "GET", path, "", "", {}, 401, "UNAUTHENTICATED"},
                                     {"not JSON", "PUT", path, "{", "application/json", sandbox.auth, 400, "INVALID_ARGUMENT"},
                                     {"an array", "PUT", path, "[]", "application/json", sandbox.auth, 400, "INVALID_ARGUMENT"},
                                     {"POST is not allowed", "POST", path, "{}", "application/json", sandbox.auth, 405, "METHOD_NOT_ALLOWED"},
                                 });
}

TEST_CASE("sends and verifies follow the policy in force at the send") {
  testing::TestServer server(generous());
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app("test", "Shop");
  REQUIRE(put_policy(sandbox, app,
                     {{"codeLength", 8},
                      {"codeAlphabet", "alphanumeric"},
                      {"ttlSeconds", 120},
                      {"maxAttempts", 3},
                      {"templates",
                       {{"en", "{code} is your {app} code ({minutes} min)"},
                        {"de", "{code} ist dein {app}-Code ({minutes} Min.)"},
                        {"pt-BR", "{code} \xc3\xa9 seu c\xc3\xb3" "digo {app}"}}}})
              .status == 200);

  struct LocaleRow {
    json requested;
    std::string used;
  };
  for (const auto& row : std::vector<LocaleRow>{{"de-AT", "de"}, {"DE", "de"}, {"pt-br", "pt-BR"}, {"pt", "en"}, {"fr", "en"}, {nullptr, "en"}}) {
    CAPTURE(row.requested.dump());
    const auto sent = send_body(sandbox, app, {{"phone", "+999 482 918 102"}, {"locale", row.requested}});
    REQUIRE(sent.status == 201);
    CHECK(sent.body["data"]["locale"] == row.used);
  }
  CHECK(send_body(sandbox, app, {{"phone", "+999 482 918 102"}, {"locale", "not a tag!"}}).body["error"]["details"]["fields"].contains("locale"));
  CHECK(send_body(sandbox, app, {{"phone", "+999 482 918 102"}, {"locale", 7}}).status == 400);

  const auto sent = send_body(sandbox, app, {{"phone", "+999 482 918 102"}, {"locale", "de-CH"}});
  REQUIRE(sent.status == 201);
  const json& data = sent.body["data"];
  CHECK(data["codeLength"] == 8);
  CHECK(data["codeAlphabet"] == "alphanumeric");
  CHECK(data["locale"] == "de");
  CHECK(data["expiresAt"] == "2026-07-03T14:24:10.000Z");
  const std::string code = data["testCode"], request_id = data["requestId"];
  CHECK(std::regex_match(code, std::regex("[ABCDEFGHJKMNPQRSTUVWXYZ2-9]{8}")));
  const auto inbox = sandbox.console("GET", "/v1/inbox");
  CHECK(inbox.body["data"][0]["message"] == code + " ist dein Shop-Code (2 Min.)");

  // A later policy does not change a request already sent.
  REQUIRE(put_policy(sandbox, app, {{"maxAttempts", 5}}).status == 200);

  for (const std::string bad_shape : {"123456", "ABCDEFG", "ABCDEFGO", "ABCDEFG1", "ABCDEFGHJ"}) {
    CAPTURE(bad_shape);
    const auto refused = sandbox.verify(app, request_id, bad_shape);
    CHECK(refused.status == 400);
    CHECK(refused.body["error"]["code"] == "INVALID_ARGUMENT");
  }
  CHECK(sandbox.console("GET", "/v1/otp/" + request_id).body["data"]["attempts"] == 0);
  const std::string wrong = code == "AAAAAAAA" ? "BBBBBBBB" : "AAAAAAAA";
  const auto first = sandbox.verify(app, request_id, wrong);
  CHECK(first.body["error"]["details"]["attemptsRemaining"] == 2);
  std::string lower = code;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto right = sandbox.verify(app, request_id, lower);
  REQUIRE(right.status == 200);
  CHECK(right.body["data"]["status"] == "verified");

  // The next send takes the new policy: 6 digits, 5 minutes, 5 attempts, English.
  const auto next = send_body(sandbox, app, {{"phone", "+999 482 918 104"}});
  CHECK(next.body["data"]["codeLength"] == 6);
  CHECK(next.body["data"]["codeAlphabet"] == "digits");
  CHECK(next.body["data"]["expiresAt"] == "2026-07-03T14:27:10.000Z");
  CHECK(std::regex_match(next.body["data"]["testCode"].get<std::string>(), std::regex("[0-9]{6}")));
  CHECK(sandbox.verify(app, next.body["data"]["requestId"], "0000000").status == 400);
}

TEST_CASE("a four-digit policy with one attempt: the fifth digit is refused, one wrong code ends the request") {
  testing::TestServer server(generous());
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app("test", "Shop");
  REQUIRE(put_policy(sandbox, app, {{"codeLength", 4}, {"maxAttempts", 1}}).status == 200);
  const auto sent = sandbox.send(app, "+999 482 918 102");
  const std::string code = sent.body["data"]["testCode"];
  CHECK(code.size() == 4);
  CHECK(sandbox.verify(app, sent.body["data"]["requestId"], code + "0").status == 400);
  const auto wrong = sandbox.verify(app, sent.body["data"]["requestId"], code == "0000" ? "1111" : "0000");
  CHECK(wrong.body["error"]["details"]["attemptsRemaining"] == 0);
  CHECK(sandbox.verify(app, sent.body["data"]["requestId"], code).body["error"]["code"] == "OTP_FAILED");
}

TEST_CASE("--phone-allow-prefix makes a range valid that the metadata does not know") {
  testing::TestServer server(generous({"+4477009"}));
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app("test", "Shop");
  const auto lookup = sandbox.console("GET", "/v1/phone-numbers/%2B44%207700%20900123");
  CHECK(lookup.body["data"]["valid"] == true);
  CHECK(lookup.body["data"]["possible"] == true);
  CHECK(lookup.body["data"]["reason"] == nullptr);
  CHECK(lookup.body["data"]["region"] == "GB");
  const auto sent = sandbox.send(app, "+44 7700 900123");
  REQUIRE(sent.status == 201);
  CHECK(sent.body["data"]["phone"] == "+44 7700 900123");
  // Outside the prefix the metadata still decides.
  CHECK(sandbox.send(app, "+44 7911 12345").status == 400);
}

TEST_CASE("rows written before the number facts were recorded read them from the parser and are backfilled") {
  testing::TestServer server(generous());
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app("test", "Shop");
  const auto sent = sandbox.send(app, "+33 6 12 34 56 78");
  REQUIRE(sandbox.verify(app, sent.body["data"]["requestId"], sent.body["data"]["testCode"]).status == 200);
  const std::string request_id = sent.body["data"]["requestId"];
  auto& store = server.application().database();
  store.write([](storage::Connection& c) {
    c.exec("UPDATE otp_requests SET region = NULL, number_type = NULL");
    c.exec("UPDATE identities SET region = NULL, number_type = NULL");
  });
  const auto read = sandbox.console("GET", "/v1/otp/" + request_id);
  CHECK(read.body["data"]["region"] == "FR");
  CHECK(read.body["data"]["numberType"] == "mobile");
  // The server's expiry sweep backfills too, and may get there first: together they fill both.
  CHECK(server.application().runtime().otp().backfill_phone_facts() <= 2);
  CHECK(server.application().runtime().otp().backfill_phone_facts() == 0);
  const auto missing = store.read([](storage::Connection& c) {
    return c.query_int64("SELECT count(*) FROM otp_requests WHERE number_type IS NULL") +
           c.query_int64("SELECT count(*) FROM identities WHERE region IS NULL");
  });
  CHECK(missing == 0);
  CHECK(sandbox.console("GET", "/v1/users/%2B33612345678").body["data"]["numberType"] == "mobile");
}

TEST_CASE("policies accepted and refused through PUT, one row per case") {
  testing::TestServer server;
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app("test", "Shop");
  for (const auto& row : testing::kPolicyRows) {
    CAPTURE(row.name);
    const auto answer = put_policy(sandbox, app, row.body);
    CHECK(answer.status == (row.refused.empty() ? 200 : 400));
    if (row.refused.empty()) continue;
    CHECK(answer.body["error"]["code"] == "INVALID_ARGUMENT");
    const json& fields = answer.body["error"]["details"]["fields"];
    CHECK(fields.size() == row.refused.size());
    for (const auto& name : row.refused) CHECK(fields.contains(name));
  }
}

TEST_CASE("template previews: encoding, characters and segments, one row per template") {
  testing::TestServer server;
  testing::Sandbox sandbox(server, "ann@example.com");
  const auto app = sandbox.create_app("test", "Shop");
  struct Row {
    std::string locale, text, encoding;
    int characters, segments;
  };
  // The preview's sample code is 482917 (6 digits); the app is called Shop.
  const std::vector<Row> rows = {
      {"en", "{code} is your {app} code", "GSM-7", 24, 1},
      {"de", "{code}" + std::string(154, 'a'), "GSM-7", 160, 1},
      {"fr", "{code}" + std::string(155, 'a'), "GSM-7", 161, 2},
      {"es", "{code}" + std::string(300, 'a'), "GSM-7", 306, 2},
      {"it", "{code}" + std::string(301, 'a'), "GSM-7", 307, 3},
      {"pt", "{code} \xe2\x82\xac [x]", "GSM-7", 15, 1},             // € [ ] count 2 each
      {"nl", "{code}\n{app}", "GSM-7", 11, 1},                       // a line feed is GSM-7
      {"sv", "{code} \xc3\xbc \xc3\x84", "GSM-7", 10, 1},             // ü Ä are in the basic set
      {"da", "{code} \xe2\x80\x9cok\xe2\x80\x9d", "UCS-2", 11, 1},   // one curly quote: UCS-2
      {"fi", "{code}" + std::string(64, 'a') + "\xc3\xa7", "UCS-2", 71, 2},
      {"pl", "{code} \xf0\x9f\x94\x91", "UCS-2", 9, 1},               // an emoji: two UTF-16 units
      {"cs", "{code}" + std::string(128, 'a') + "\xc3\xa7", "UCS-2", 135, 3},
  };
  json templates = json::object();
  for (const auto& row : rows) templates[row.locale] = row.text;
  const auto answer = put_policy(sandbox, app, {{"templates", templates}});
  REQUIRE(answer.status == 200);
  for (const auto& row : rows) {
    CAPTURE(row.locale);
    const json& preview = answer.body["data"]["templatePreview"][row.locale];
    CHECK(preview["encoding"] == row.encoding);
    CHECK(preview["characters"] == row.characters);
    CHECK(preview["segments"] == row.segments);
    CHECK(preview["text"].get<std::string>().starts_with("482917"));
  }
}
