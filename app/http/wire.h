// HTTP/1.1 request framing (RFC 9112 §2–7), strict on purpose: anything a proxy in front of
// us could read differently is refused, so one client's bytes can never become another request.
// Pure functions over bytes, no I/O; the connection loop (server.cpp) feeds them. Value types,
// not synchronised.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace app::http::wire {

struct Limits {
  std::size_t max_request_line = 8 * 1024;   // 414 beyond
  std::size_t max_header_block = 16 * 1024;  // 431 beyond (all field lines together)
  std::size_t max_header_count = 100;        // 431 beyond
  std::size_t max_body = 64 * 1024;          // 413 beyond, decided before the body is read
};

// Why a request was refused: the status and a message for the error envelope. Every rejection
// closes the connection.
struct Rejection {
  int status = 400;
  std::string message;
};

enum class BodyFraming { kNone, kLength, kChunked };

struct RequestHead {
  std::string method;
  std::string target;  // as sent (origin-form, or "*")
  int minor_version = 1;
  std::vector<std::pair<std::string, std::string>> headers;  // names as sent, values trimmed
  BodyFraming framing = BodyFraming::kNone;
  std::size_t content_length = 0;
  bool keep_alive = true;
  bool expect_continue = false;
};

struct HeadParse {
  enum class State { kIncomplete, kComplete, kRejected };
  State state = State::kIncomplete;
  std::size_t consumed = 0;  // bytes of the head, when complete
  RequestHead head;
  Rejection rejection;
};

// Parses a request head from the start of `buffer`. Incomplete until the blank line arrives;
// rejected as soon as a complete line (or an over-long prefix) is malformed.
HeadParse parse_head(std::string_view buffer, const Limits& limits);

// Decodes a chunked body incrementally (RFC 9112 §7.1), bounded by `max_body` decoded bytes
// and a bounded size of each framing line. Trailer fields are checked and dropped.
class ChunkedDecoder {
 public:
  enum class State { kNeedMore, kDone, kRejected };

  explicit ChunkedDecoder(std::size_t max_body = 64 * 1024) : max_body_(max_body) {}

  // Consumes a prefix of `input`, appending decoded data to `body`; `consumed` says how much.
  State feed(std::string_view input, std::size_t& consumed, std::string& body);
  const Rejection& rejection() const { return rejection_; }

 private:
  enum class Step { kSize, kData, kDataEnd, kTrailer, kDone };
  State reject(int status, std::string message);

  std::size_t max_body_;
  Step step_ = Step::kSize;
  std::uint64_t remaining_ = 0;  // of the current chunk
  std::size_t trailer_bytes_ = 0;
  std::size_t trailer_count_ = 0;
  Rejection rejection_;
};

// RFC 9110 §5.6.2 token characters (header names, methods).
bool is_token(std::string_view text);
// A syntactically valid Host value: reg-name, IPv4 or [IPv6], with an optional :port.
bool is_valid_host(std::string_view host);
// The value of a hexadecimal digit (either case), or -1.
int hex_value(char c);
// Case-insensitive ASCII equality.
bool iequals(std::string_view a, std::string_view b);

}  // namespace app::http::wire
