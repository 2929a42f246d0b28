#include <doctest/doctest.h>

#include "app/http/router.h"
#include "app/http/server.h"

TEST_CASE("percent-decoding decodes escapes and refuses broken ones") {
  using app::http::percent_decode;
  CHECK(percent_decode("%2B999%20482") == "+999 482");
  CHECK(percent_decode("plain") == "plain");
  CHECK(percent_decode("a%2fb") == "a/b");
  CHECK_FALSE(percent_decode("%").has_value());
  CHECK_FALSE(percent_decode("%2").has_value());
  CHECK_FALSE(percent_decode("%zz").has_value());
}

TEST_CASE("incoming request ids are echoed only when well-formed") {
  using app::http::is_valid_request_id;
  CHECK(is_valid_request_id("abc-123_x.y:z"));
  CHECK(is_valid_request_id(std::string(128, 'a')));
  CHECK_FALSE(is_valid_request_id(""));
  CHECK_FALSE(is_valid_request_id(std::string(129, 'a')));
  CHECK_FALSE(is_valid_request_id("has space"));
  CHECK_FALSE(is_valid_request_id("semi;colon"));
  CHECK_FALSE(is_valid_request_id("new\nline"));
}
