#include "app/http/wire.h"

#include <algorithm>
#include <array>

namespace app::http::wire {

namespace {

constexpr std::size_t kMaxChunkLine = 1024;  // size + extensions; real clients send a few bytes

bool is_tchar(unsigned char c) {
  static constexpr std::string_view kSymbols = "!#$%&'*+-.^_`|~";
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         kSymbols.find(static_cast<char>(c)) != std::string_view::npos;
}

// field-vchar / SP / HTAB / obs-text: everything but controls and DEL.
bool is_field_value_char(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string_view trim_ows(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

HeadParse rejected(int status, std::string message) {
  HeadParse result;
  result.state = HeadParse::State::kRejected;
  result.rejection = {status, std::move(message)};
  return result;
}

// One field line "name: value" (without its CRLF), checked as RFC 9112 §5 requires: a token
// name directly followed by the colon, a value of visible characters, SP and HTAB only.
bool parse_field_line(std::string_view line, std::string_view& name, std::string_view& value) {
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  name = line.substr(0, colon);
  if (!is_token(name)) return false;
  value = line.substr(colon + 1);
  if (!std::all_of(value.begin(), value.end(), [](char c) { return is_field_value_char(static_cast<unsigned char>(c)); })) {
    return false;
  }
  value = trim_ows(value);
  return true;
}

bool is_known_method(std::string_view method) {
  static constexpr std::array<std::string_view, 7> kMethods = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
  return std::find(kMethods.begin(), kMethods.end(), method) != kMethods.end();
}

bool is_target_char(char c) { return c > 0x20 && c < 0x7f && c != '#'; }

// The connection options of a Connection header value: does it name `option`?
bool has_connection_option(std::string_view value, std::string_view option) {
  while (!value.empty()) {
    const std::size_t comma = value.find(',');
    if (iequals(trim_ows(value.substr(0, comma)), option)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// True when `name` is `framing` (lower case, with '-') spelled with at least one '_' for '-'.
bool underscore_spelling_of(std::string_view name, std::string_view framing) {
  if (name.size() != framing.size() || name.find('_') == std::string_view::npos) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i] == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(name[i])));
    if (c != framing[i]) return false;
  }
  return true;
}

bool is_token(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return is_tchar(static_cast<unsigned char>(c)); });
}

bool is_valid_host(std::string_view host) {
  if (host.empty()) return false;
  std::string_view name = host, port;
  if (host.front() == '[') {
    const std::size_t close = host.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    const std::string_view literal = host.substr(1, close - 1);
    const bool ok = std::all_of(literal.begin(), literal.end(),
                                [](char c) { return hex_value(c) >= 0 || c == ':' || c == '.'; });
    if (!ok) return false;
    name = {};
    const std::string_view rest = host.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      port = rest.substr(1);
      if (port.empty()) return false;
    }
  } else {
    const std::size_t colon = host.rfind(':');
    if (colon != std::string_view::npos) {
      name = host.substr(0, colon);
      port = host.substr(colon + 1);
      if (port.empty()) return false;
    }
    // reg-name: unreserved / pct-encoded / sub-delims (RFC 3986 §3.2.2).
    static constexpr std::string_view kAllowed = "-._~!$&'()*+,;=%";
    if (name.empty()) return false;
    for (char c : name) {
      const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
      if (!alnum && kAllowed.find(c) == std::string_view::npos) return false;
    }
  }
  return port.size() <= 5 && std::all_of(port.begin(), port.end(), is_digit);
}

HeadParse parse_head(std::string_view buffer, const Limits& limits) {
  HeadParse result;
  std::size_t start = 0;
  // RFC 9112 §2.2: a server SHOULD ignore empty lines received before the request line.
  while (buffer.substr(start, 2) == "\r\n") start += 2;
  if (start > 64) return rejected(400, "Malformed request line.");

  // --- request line ---
  const std::size_t line_end = buffer.find('\n', start);
  if (line_end == std::string_view::npos) {
    const std::string_view partial = buffer.substr(start);
    if (partial.size() > limits.max_request_line) return rejected(414, "Request line is longer than 8 KiB.");
    // Refuse bytes that can never start a request without waiting for the rest.
    for (char c : partial) {
      if (c != '\r' && c != ' ' && !is_target_char(c)) return rejected(400, "Malformed request line.");
    }
    return result;
  }
  if (line_end - start > limits.max_request_line + 1) return rejected(414, "Request line is longer than 8 KiB.");
  if (line_end == start || buffer[line_end - 1] != '\r') return rejected(400, "Malformed request line.");
  const std::string_view line = buffer.substr(start, line_end - 1 - start);
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return rejected(400, "Malformed request line.");
  }
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!is_token(method)) return rejected(400, "Malformed request method.");
  if (target.empty() || !std::all_of(target.begin(), target.end(), is_target_char)) {
    return rejected(400, "Malformed request target.");
  }
  if (version.size() != 8 || !version.starts_with("HTTP/") || !is_digit(version[5]) || version[6] != '.' ||
      !is_digit(version[7])) {
    return rejected(400, "Malformed HTTP version.");
  }
  if (version[5] != '1' || (version[7] != '0' && version[7] != '1')) {
    return rejected(505, "Only HTTP/1.1 and HTTP/1.0 are supported.");
  }
  if (!is_known_method(method)) return rejected(501, "Method " + std::string(method) + " is not implemented.");
  if (target.front() != '/' && !(target == "*" && method == "OPTIONS")) {
    return rejected(400, "The request target must be an absolute path.");
  }
  result.head.method = method;
  result.head.target = target;
  result.head.minor_version = version[7] - '0';

  // --- field lines ---
  std::size_t position = line_end + 1;
  const std::size_t block_start = position;
  while (true) {
    const std::size_t end = buffer.find('\n', position);
    if (end == std::string_view::npos) {
      if (buffer.size() - block_start > limits.max_header_block) {
        return rejected(431, "Request header fields are larger than 16 KiB.");
      }
      const std::string_view partial = buffer.substr(position);
      if (!partial.empty() && (partial.front() == ' ' || partial.front() == '\t')) {
        return rejected(400, "Obsolete line folding is not accepted.");
      }
      for (char c : partial) {
        if (c != '\r' && !is_field_value_char(static_cast<unsigned char>(c))) {
          return rejected(400, "Control characters in a header field.");
        }
      }
      return result;
    }
    if (end + 1 - block_start > limits.max_header_block + 2) {
      return rejected(431, "Request header fields are larger than 16 KiB.");
    }
    if (end == position || buffer[end - 1] != '\r') return rejected(400, "Header lines must end with CRLF.");
    const std::string_view field = buffer.substr(position, end - 1 - position);
    position = end + 1;
    if (field.empty()) break;
    if (field.front() == ' ' || field.front() == '\t') return rejected(400, "Obsolete line folding is not accepted.");
    std::string_view name, value;
    if (!parse_field_line(field, name, value)) return rejected(400, "Malformed header field.");
    if (result.head.headers.size() >= limits.max_header_count) {
      return rejected(431, "Too many request header fields.");
    }
    result.head.headers.emplace_back(name, value);
  }
  result.consumed = position;

  // --- semantics of the framing fields ---
  RequestHead& head = result.head;
  const bool http11 = head.minor_version == 1;
  int hosts = 0, lengths = 0, encodings = 0;
  std::string_view host, length, encoding;
  head.keep_alive = http11;
  for (const auto& [name, value] : head.headers) {
    // A front proxy that folds '_' into '-' would frame the body by Content_Length or
    // Transfer_Encoding; ignoring them here would parse that body as the next request.
    if (underscore_spelling_of(name, "content-length") || underscore_spelling_of(name, "transfer-encoding")) {
      return rejected(400, "Header " + std::string(name) + " is refused: '_' for '-' in a framing header.");
    }
    if (iequals(name, "Host")) {
      ++hosts;
      host = value;
    } else if (iequals(name, "Content-Length")) {
      ++lengths;
      length = value;
    } else if (iequals(name, "Transfer-Encoding")) {
      ++encodings;
      encoding = value;
    } else if (iequals(name, "Connection")) {
      if (has_connection_option(value, "close")) head.keep_alive = false;
      else if (!http11 && has_connection_option(value, "keep-alive")) head.keep_alive = true;
    } else if (iequals(name, "Expect")) {
      if (!http11 || !iequals(value, "100-continue")) return rejected(417, "Only Expect: 100-continue is supported.");
      head.expect_continue = true;
    }
  }
  if (hosts > 1) return rejected(400, "More than one Host header.");
  if (hosts == 0 && http11) return rejected(400, "An HTTP/1.1 request needs a Host header.");
  if (hosts == 1 && !is_valid_host(host)) return rejected(400, "Malformed Host header.");

  if (encodings > 0) {
    if (lengths > 0) return rejected(400, "Content-Length and Transfer-Encoding together are not accepted.");
    if (!http11) return rejected(400, "Transfer-Encoding is not accepted in HTTP/1.0.");
    if (encodings > 1 || !iequals(encoding, "chunked")) {
      return rejected(501, "Transfer-Encoding other than chunked is not supported.");
    }
    head.framing = BodyFraming::kChunked;
  } else if (lengths > 0) {
    if (lengths > 1) return rejected(400, "More than one Content-Length header.");
    if (length.empty() || !std::all_of(length.begin(), length.end(), is_digit)) {
      return rejected(400, "Content-Length must be a decimal number.");
    }
    const std::string_view significant = length.substr(std::min(length.find_first_not_of('0'), length.size()));
    if (significant.size() > 18) return rejected(413, "Request body is larger than 64 KiB.");
    std::uint64_t value = 0;
    for (char c : significant) value = value * 10 + static_cast<std::uint64_t>(c - '0');
    if (value > limits.max_body) return rejected(413, "Request body is larger than 64 KiB.");
    head.content_length = static_cast<std::size_t>(value);
    head.framing = value > 0 ? BodyFraming::kLength : BodyFraming::kNone;
  }
  if (head.framing == BodyFraming::kNone) head.expect_continue = false;
  // Several proxies ignore a GET or HEAD body and would read it as the next request: the body
  // is consumed, the request answered, and the connection closed.
  if (head.framing != BodyFraming::kNone && (head.method == "GET" || head.method == "HEAD")) head.keep_alive = false;
  result.state = HeadParse::State::kComplete;
  return result;
}

ChunkedDecoder::State ChunkedDecoder::reject(int status, std::string message) {
  rejection_ = {status, std::move(message)};
  return State::kRejected;
}

ChunkedDecoder::State ChunkedDecoder::feed(std::string_view input, std::size_t& consumed, std::string& body) {
  consumed = 0;
  while (true) {
    const std::string_view rest = input.substr(consumed);
    switch (step_) {
      case Step::kDone:
        return State::kDone;

      case Step::kSize: {
        const std::size_t end = rest.find('\n');
        if (end == std::string_view::npos) {
          if (rest.size() > kMaxChunkLine) return reject(400, "Malformed chunk size line.");
          return State::kNeedMore;
        }
        if (end == 0 || rest[end - 1] != '\r' || end > kMaxChunkLine) return reject(400, "Malformed chunk size line.");
        const std::string_view line = rest.substr(0, end - 1);
        std::size_t digits = 0;
        std::uint64_t size = 0;
        while (digits < line.size() && hex_value(line[digits]) >= 0) {
          if (digits >= 15) return reject(413, "Request body is larger than 64 KiB.");
          size = size * 16 + static_cast<std::uint64_t>(hex_value(line[digits]));
          ++digits;
        }
        if (digits == 0) return reject(400, "Malformed chunk size.");
        // chunk-ext: BWS ";" ... — visible characters only, no bare CR or controls.
        std::string_view extension = line.substr(digits);
        while (!extension.empty() && (extension.front() == ' ' || extension.front() == '\t')) extension.remove_prefix(1);
        if (!extension.empty() &&
            (extension.front() != ';' || !std::all_of(extension.begin(), extension.end(), [](char c) {
              return is_field_value_char(static_cast<unsigned char>(c));
            }))) {
          return reject(400, "Malformed chunk size.");
        }
        if (size > max_body_ - body.size()) return reject(413, "Request body is larger than 64 KiB.");
        consumed += end + 1;
        remaining_ = size;
        step_ = size == 0 ? Step::kTrailer : Step::kData;
        break;
      }

      case Step::kData: {
        if (rest.empty()) return State::kNeedMore;
        const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, rest.size()));
        body.append(rest.substr(0, take));
        consumed += take;
        remaining_ -= take;
        if (remaining_ == 0) step_ = Step::kDataEnd;
        break;
      }

      case Step::kDataEnd:
        if (rest.size() < 2) {
          if (!rest.empty() && rest[0] != '\r') return reject(400, "Chunk data must end with CRLF.");
          return State::kNeedMore;
        }
        if (rest[0] != '\r' || rest[1] != '\n') return reject(400, "Chunk data must end with CRLF.");
        consumed += 2;
        step_ = Step::kSize;
        break;

      case Step::kTrailer: {
        const std::size_t end = rest.find('\n');
        if (end == std::string_view::npos) {
          if (trailer_bytes_ + rest.size() > 16 * 1024) return reject(431, "Trailer fields are larger than 16 KiB.");
          return State::kNeedMore;
        }
        if (end == 0 || rest[end - 1] != '\r') return reject(400, "Trailer lines must end with CRLF.");
        trailer_bytes_ += end + 1;
        if (trailer_bytes_ > 16 * 1024 || ++trailer_count_ > 100) return reject(431, "Trailer fields are too large.");
        const std::string_view field = rest.substr(0, end - 1);
        consumed += end + 1;
        if (field.empty()) {
          step_ = Step::kDone;
          return State::kDone;
        }
        std::string_view name, value;
        if (field.front() == ' ' || field.front() == '\t' || !parse_field_line(field, name, value)) {
          return reject(400, "Malformed trailer field.");
        }
        break;
      }
    }
  }
}

}  // namespace app::http::wire
