// Strict HTTP/1.1 framing (app/http/wire.h): one row per case.
#include <doctest/doctest.h>

#include "app/http/wire.h"

using app::http::wire::BodyFraming;
using app::http::wire::ChunkedDecoder;
using app::http::wire::HeadParse;
using app::http::wire::Limits;
using app::http::wire::parse_head;

namespace {

struct HeadCase {
  std::string name;
  std::string bytes;
  int status;  // 0 = complete, -1 = incomplete, else the rejection status
};

int outcome(const HeadParse& parsed) {
  switch (parsed.state) {
    case HeadParse::State::kComplete: return 0;
    case HeadParse::State::kIncomplete: return -1;
    case HeadParse::State::kRejected: return parsed.rejection.status;
  }
  return -2;
}

std::string head(const std::string& fields) { return "POST /v1/x HTTP/1.1\r\nHost: a\r\n" + fields + "\r\n"; }

}  // namespace

TEST_CASE("wire: request heads are framed strictly") {
  const std::string nul(1, '\0');
  const std::vector<HeadCase> cases = {
      {"simple GET", "GET /v1/health HTTP/1.1\r\nHost: a\r\n\r\n", 0},
      {"HTTP/1.0 without Host", "GET /v1/health HTTP/1.0\r\n\r\n", 0},
      {"leading empty line", "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 0},
      {"tab inside a value", head("X-A: b\tc\r\n"), 0},
      {"obs-text in a value", head("X-A: caf\xc3\xa9\r\n"), 0},
      {"Host with port", "GET / HTTP/1.1\r\nHost: example.com:8080\r\n\r\n", 0},
      {"Host IPv6", "GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n", 0},
      {"not yet complete", "GET /v1/health HTTP/1.1\r\nHost: a\r\n", -1},
      {"request line not complete", "GET /v1/hea", -1},
      {"OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 0},

      {"CL and TE", head("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"), 400},
      {"TE and CL", head("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"), 400},
      {"TE xchunked", head("Transfer-Encoding: xchunked\r\n"), 501},
      {"TE list", head("Transfer-Encoding: chunked, identity\r\n"), 501},
      {"TE gzip, chunked", head("Transfer-Encoding: gzip, chunked\r\n"), 501},
      {"TE quoted", head("Transfer-Encoding: \"chunked\"\r\n"), 501},
      {"TE twice", head("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"), 501},
      {"TE empty", head("Transfer-Encoding:\r\n"), 501},
      {"TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
      {"TE vertical tab", head("Transfer-Encoding: \x0b" "chunked\r\n"), 400},
      {"CL hex", head("Content-Length: 0x33\r\n"), 400},
      {"CL plus sign", head("Content-Length: +51\r\n"), 400},
      {"CL trailing letters", head("Content-Length: 51abc\r\n"), 400},
      {"CL negative", head("Content-Length: -1\r\n"), 400},
      {"CL list", head("Content-Length: 5, 5\r\n"), 400},
      {"CL inner space", head("Content-Length: 5 5\r\n"), 400},
      {"CL twice same", head("Content-Length: 5\r\nContent-Length: 5\r\n"), 400},
      {"CL twice different", head("Content-Length: 5\r\nContent-Length: 6\r\n"), 400},
      {"CL empty", head("Content-Length: \r\n"), 400},
      {"CL over the limit", head("Content-Length: 65537\r\n"), 413},
      {"CL 10^15", head("Content-Length: 1000000000000000\r\n"), 413},
      {"CL 30 digits", head("Content-Length: 123456789012345678901234567890\r\n"), 413},

      {"NUL in a name", head("X-A" + nul + "b: c\r\n"), 400},
      {"NUL in a value", head("X-A: b" + nul + "c\r\n"), 400},
      {"bare CR in a value", head("X-A: b\rc\r\n"), 400},
      {"bare LF line end", "GET / HTTP/1.1\nHost: a\n\n", 400},
      {"bare LF after a field", "GET / HTTP/1.1\r\nHost: a\n\r\n", 400},
      {"DEL in a value", head("X-A: b\x7f\r\n"), 400},
      {"0x01 in a value", head("X-A: b\x01\r\n"), 400},
      {"space before the colon", head("X-A : b\r\n"), 400},
      {"obs-fold", head("X-A: b\r\n c\r\n"), 400},
      {"tab fold", head("X-A: b\r\n\tc\r\n"), 400},
      {"empty name", head(": b\r\n"), 400},
      {"non-token name", head("Bad(name): b\r\n"), 400},
      {"space in name", head("X Y: b\r\n"), 400},
      {"no colon", head("X-A b\r\n"), 400},

      {"no Host", "GET / HTTP/1.1\r\n\r\n", 400},
      {"two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
      {"Host with a space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
      {"Host with a slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400},
      {"Host unclosed IPv6", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400},
      {"Host empty", "GET / HTTP/1.1\r\nHost: \r\n\r\n", 400},
      {"Host bad port", "GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n", 400},

      {"HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},
      {"HTTP/1.2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505},
      {"lowercase version", "GET / http/1.1\r\nHost: a\r\n\r\n", 400},
      {"no version", "GET /v1/health\r\n\r\n", 400},
      {"two spaces", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
      {"unknown method", "BREW / HTTP/1.1\r\nHost: a\r\n\r\n", 501},
      {"lowercase method", "get / HTTP/1.1\r\nHost: a\r\n\r\n", 501},
      {"absolute target", "GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", 400},
      {"NUL in the target", "GET /a" + nul + "b HTTP/1.1\r\nHost: a\r\n\r\n", 400},
      {"NUL before the line ends", "GET /a" + nul, 400},
      {"request line over 8 KiB", "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n", 414},
      {"request line over 8 KiB, unfinished", "GET /" + std::string(9000, 'a'), 414},
      {"header block over 16 KiB", head("X-A: " + std::string(17000, 'a') + "\r\n"), 431},
      {"header block over 16 KiB, unfinished", "GET / HTTP/1.1\r\nX-A: " + std::string(17000, 'a'), 431},
      {"12 KiB header is fine", head("X-A: " + std::string(12 * 1024, 'a') + "\r\n"), 0},
      {"too many fields", [] {
         std::string fields;
         for (int i = 0; i < 120; ++i) fields += "X-" + std::to_string(i) + ": v\r\n";
         return head(fields);
       }(), 431},
      {"Expect other than 100-continue", head("Expect: magic\r\n"), 417},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    CHECK(outcome(parse_head(c.bytes, Limits{})) == c.status);
  }
}

TEST_CASE("wire: the framing of a complete head") {
  const auto length = parse_head(head("Content-Length: 0012\r\n"), Limits{});
  REQUIRE(length.state == HeadParse::State::kComplete);
  CHECK(length.head.framing == BodyFraming::kLength);
  CHECK(length.head.content_length == 12);
  CHECK(length.consumed == head("Content-Length: 0012\r\n").size());

  const auto chunked = parse_head(head("Transfer-Encoding:  CHUNKED \r\n"), Limits{});
  REQUIRE(chunked.state == HeadParse::State::kComplete);
  CHECK(chunked.head.framing == BodyFraming::kChunked);

  const auto none = parse_head(head(""), Limits{});
  CHECK(none.head.framing == BodyFraming::kNone);
  CHECK(none.head.keep_alive);
  CHECK(parse_head(head("Connection: Close\r\n"), Limits{}).head.keep_alive == false);
  CHECK(parse_head("GET / HTTP/1.0\r\n\r\n", Limits{}).head.keep_alive == false);
  CHECK(parse_head("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", Limits{}).head.keep_alive);
  // A GET or HEAD that carries a body is answered and then closed; without one it keeps alive.
  for (const char* method : {"GET", "HEAD"}) {
    CAPTURE(method);
    const std::string start = std::string(method) + " / HTTP/1.1\r\nHost: a\r\n";
    CHECK(parse_head(start + "Content-Length: 5\r\n\r\n", Limits{}).head.keep_alive == false);
    CHECK(parse_head(start + "Transfer-Encoding: chunked\r\n\r\n", Limits{}).head.keep_alive == false);
    CHECK(parse_head(start + "Content-Length: 0\r\n\r\n", Limits{}).head.keep_alive);
  }
  CHECK(parse_head("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", Limits{}).head.keep_alive);
  // A framing header spelled with '_' is refused, whatever its case; other '_' names are not.
  for (const char* name : {"Content_Length", "content_length", "Transfer_Encoding", "TRANSFER_ENCODING", "Content_Length"}) {
    CAPTURE(name);
    CHECK(outcome(parse_head(head(std::string(name) + ": 5\r\n"), Limits{})) == 400);
  }
  CHECK(outcome(parse_head(head("X_Content_Length: 5\r\n"), Limits{})) == 0);
  // Header values are kept as sent: never percent-decoded.
  const auto raw = parse_head(head("Authorization: Bearer a%2Eb\r\n"), Limits{});
  CHECK(raw.head.headers.back().second == "Bearer a%2Eb");
}

TEST_CASE("wire: chunked bodies decode incrementally and within the limit") {
  struct Case {
    std::string name, bytes;
    ChunkedDecoder::State state;
    int status;
    std::string body;
  };
  const std::vector<Case> cases = {
      {"two chunks", "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", ChunkedDecoder::State::kDone, 0, "abcde"},
      {"extension", "3;x=y\r\nabc\r\n0\r\n\r\n", ChunkedDecoder::State::kDone, 0, "abc"},
      {"trailer", "1\r\na\r\n0\r\nX-T: 1\r\n\r\n", ChunkedDecoder::State::kDone, 0, "a"},
      {"upper-case hex", "A\r\n0123456789\r\n0\r\n\r\n", ChunkedDecoder::State::kDone, 0, "0123456789"},
      {"unfinished", "3\r\nab", ChunkedDecoder::State::kNeedMore, 0, "ab"},
      {"bad size", "zz\r\nabc\r\n", ChunkedDecoder::State::kRejected, 400, ""},
      {"negative size", "-1\r\n", ChunkedDecoder::State::kRejected, 400, ""},
      {"0x prefix", "0x10\r\n", ChunkedDecoder::State::kRejected, 400, ""},
      {"bare LF after size", "3\nabc\r\n", ChunkedDecoder::State::kRejected, 400, ""},
      {"no CRLF after data", "3\r\nabcX\r\n", ChunkedDecoder::State::kRejected, 400, "abc"},
      {"huge size", "fffffffffffffffffff\r\n", ChunkedDecoder::State::kRejected, 413, ""},
      {"over 64 KiB", "10001\r\n", ChunkedDecoder::State::kRejected, 413, ""},
      {"bad trailer", "0\r\nBad Trailer: 1\r\n\r\n", ChunkedDecoder::State::kRejected, 400, ""},
      {"size line too long", std::string(2000, '0'), ChunkedDecoder::State::kRejected, 400, ""},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    ChunkedDecoder decoder;
    std::string body;
    std::size_t consumed = 0;
    const auto state = decoder.feed(c.bytes, consumed, body);
    CHECK(state == c.state);
    if (state == ChunkedDecoder::State::kRejected) CHECK(decoder.rejection().status == c.status);
    CHECK(body == c.body);
  }

  // Byte by byte gives the same answer.
  const std::string whole = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\nNEXT";
  ChunkedDecoder decoder;
  std::string body, pending;
  ChunkedDecoder::State state = ChunkedDecoder::State::kNeedMore;
  std::size_t fed = 0;
  for (char c : whole) {
    pending += c;
    ++fed;
    std::size_t consumed = 0;
    state = decoder.feed(pending, consumed, body);
    pending.erase(0, consumed);
    if (state == ChunkedDecoder::State::kDone) break;
  }
  CHECK(state == ChunkedDecoder::State::kDone);
  CHECK(body == "hello world");
  CHECK(whole.substr(fed) == "NEXT");

  // Many small chunks still stop at the limit.
  ChunkedDecoder bounded(10);
  std::string small_body;
  std::size_t consumed = 0;
  CHECK(bounded.feed("6\r\nabcdef\r\n6\r\nabcdef\r\n", consumed, small_body) == ChunkedDecoder::State::kRejected);
  CHECK(bounded.rejection().status == 413);
}
