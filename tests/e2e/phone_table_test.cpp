// End-to-end: the binary's phone-number answers (SPEC §14). CI runs this against the static
// release binary, whose ICU data archive is replaced by an empty stub: every answer must be the
// one libphonenumber gives with Debian's full ICU data, which this test process links.
#include <doctest/doctest.h>
#include <httplib.h>
#include <phonenumbers/phonenumberutil.h>

#include <nlohmann/json.hpp>
#include <set>

#include "app/http/render.h"
#include "core/phone.h"
#include "core/templates.h"
#include "tests/e2e/helpers.h"
#include "tests/e2e/process.h"
#include "tests/support/phone_table.h"
#include "tests/support/temp_dir.h"

using namespace std::chrono_literals;
using nlohmann::json;

namespace {

struct Running {
  testing::TempDir dir;
  testing::Process server;
  httplib::Client client;
  httplib::Headers auth;
  explicit Running(int port)
      : server(testing::binary(), {"--db", dir.file("data.sqlite"), "--listen", "127.0.0.1:" + std::to_string(port),
                                   "--signup", "open"}),
        client("127.0.0.1", port) {}
};

json lookup(Running& running, const std::string& number, const std::string& region) {
  const std::string path = "/v1/phone-numbers/" + core::url_encode(number) + (region.empty() ? "" : "?region=" + region);
  const auto answer = running.client.Get(path, running.auth);
  REQUIRE(answer);
  REQUIRE_MESSAGE(answer->status == 200, path, " ", answer->body);
  return json::parse(answer->body)["data"];
}

// Every example number libphonenumber's metadata holds, by region and type, as E.164 and in its
// national format (read back with its region).
std::vector<std::pair<std::string, std::string>> example_numbers() {
  using i18n::phonenumbers::PhoneNumber;
  using i18n::phonenumbers::PhoneNumberUtil;
  const auto& util = *PhoneNumberUtil::GetInstance();
  std::set<std::string> regions;
  util.GetSupportedRegions(&regions);
  std::vector<std::pair<std::string, std::string>> numbers;
  for (const auto& region : regions) {
    for (int type = PhoneNumberUtil::FIXED_LINE; type <= PhoneNumberUtil::VOICEMAIL; ++type) {
      PhoneNumber number;
      if (!util.GetExampleNumberForType(region, static_cast<PhoneNumberUtil::PhoneNumberType>(type), &number)) continue;
      std::string e164, national;
      util.Format(number, PhoneNumberUtil::E164, &e164);
      util.Format(number, PhoneNumberUtil::NATIONAL, &national);
      numbers.emplace_back(e164, "");
      numbers.emplace_back(national, region);
    }
  }
  return numbers;
}

}  // namespace

TEST_CASE("the binary's phone-number answers: the table, and every metadata example number as with full ICU data") {
  Running running(testing::free_port());
  testing::start_and_wait(running.server);
  const auto signup = running.client.Post("/v1/auth/signup", R"({"email":"ann@example.com","password":"correct horse battery"})",
                                          "application/json");
  REQUIRE(signup);
  REQUIRE(signup->status == 201);
  running.auth = {{"Authorization", "Bearer " + json::parse(signup->body)["data"]["idToken"].get<std::string>()}};

  for (const auto& row : testing::kPhoneTable) {
    CAPTURE(row.input);
    const json data = lookup(running, row.input, row.region);
    CHECK(data["e164"] == row.e164);
    CHECK(data["phone"] == row.phone);
    CHECK(data["valid"] == row.valid);
    CHECK(data["reason"] == row.reason);
    CHECK(data["region"] == row.number_region);
    CHECK(data["numberType"] == row.type);
    CHECK(data["nationalFormat"] == row.national);
  }

  const auto examples = example_numbers();
  CHECK(examples.size() > 2000);
  int compared = 0;
  for (const auto& [number, region] : examples) {
    CAPTURE(number);
    CAPTURE(region);
    const json expected = app::http::phone_lookup_json(
        core::describe_phone(number, region.empty() ? std::nullopt : std::optional(region)));
    CHECK(lookup(running, number, region) == expected);
    ++compared;
  }
  MESSAGE("compared ", compared, " example-number answers with libphonenumber's under full ICU data");

  testing::Process version(testing::binary(), {"version"});
  REQUIRE(version.wait(10s) == 0);
  CHECK(version.out().find("libphonenumber metadata " + core::phone_metadata_version()) != std::string::npos);
}
