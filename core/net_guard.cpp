#include "core/net_guard.h"

#include <arpa/inet.h>

#include <array>
#include <cstdint>
#include <cstring>

namespace core {

std::optional<ParsedUrl> parse_url(std::string_view url, std::string* problem) {
  auto fail = [&](const char* why) -> std::optional<ParsedUrl> {
    if (problem) *problem = why;
    return std::nullopt;
  };
  ParsedUrl parsed;
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return fail("must be an absolute http(s) URL");
  parsed.scheme = std::string(url.substr(0, scheme_end));
  for (char& c : parsed.scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (parsed.scheme != "http" && parsed.scheme != "https") return fail("must use https (or http)");
  const std::string_view rest = url.substr(scheme_end + 3);
  const auto authority_end = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, authority_end);
  parsed.target = authority_end == std::string_view::npos ? "/" : std::string(rest.substr(authority_end));
  if (parsed.target.front() != '/') parsed.target.insert(0, "/");
  if (const auto hash = parsed.target.find('#'); hash != std::string::npos) parsed.target.resize(hash);
  if (authority.find('@') != std::string_view::npos) return fail("must not contain credentials");
  if (authority.empty()) return fail("has no host");
  std::string_view host_port = authority;
  std::string_view port_text;
  if (host_port.front() == '[') {
    const auto close = host_port.find(']');
    if (close == std::string_view::npos) return fail("has a malformed IPv6 host");
    parsed.host = std::string(host_port.substr(1, close - 1));
    if (close + 1 < host_port.size()) {
      if (host_port[close + 1] != ':') return fail("has a malformed host");
      port_text = host_port.substr(close + 2);
    }
  } else {
    const auto colon = host_port.rfind(':');
    parsed.host = std::string(host_port.substr(0, colon));
    if (colon != std::string_view::npos) port_text = host_port.substr(colon + 1);
  }
  if (parsed.host.empty()) return fail("has no host");
  for (char c : parsed.host) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == '%' || c == '\\') return fail("has an invalid host");
  }
  if (!port_text.empty()) {
    if (port_text.size() > 5 || port_text.find_first_not_of("0123456789") != std::string_view::npos) {
      return fail("has an invalid port");
    }
    parsed.port = std::stoi(std::string(port_text));
    if (parsed.port < 1 || parsed.port > 65535) return fail("has an invalid port");
  } else {
    parsed.port = parsed.scheme == "https" ? 443 : 80;
  }
  for (char c : parsed.target) {
    if (static_cast<unsigned char>(c) <= 0x20) return fail("contains spaces or control characters");
  }
  return parsed;
}

namespace {

std::string ipv4_reason(std::uint32_t a) {  // host byte order
  auto in = [&](std::uint32_t network, int bits) {
    const std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
    return (a & mask) == (network & mask);
  };
  if (in(0x00000000, 8)) return "unspecified";
  if (in(0x7f000000, 8)) return "loopback";
  if (in(0x0a000000, 8) || in(0xac100000, 12) || in(0xc0a80000, 16)) return "private";
  if (a == 0xa9fea9fe) return "metadata";
  if (in(0xa9fe0000, 16)) return "link-local";
  if (in(0x64400000, 10)) return "CGNAT";
  if (in(0xc0000000, 24) || in(0xc0000200, 24) || in(0xc6336400, 24) || in(0xcb007100, 24)) return "reserved";
  if (in(0xc6120000, 15)) return "benchmarking";
  if (in(0xe0000000, 4)) return "multicast";
  if (in(0xf0000000, 4)) return "reserved";
  return {};
}

std::uint32_t read_v4(const unsigned char* bytes) {
  return static_cast<std::uint32_t>(bytes[0]) << 24 | static_cast<std::uint32_t>(bytes[1]) << 16 |
         static_cast<std::uint32_t>(bytes[2]) << 8 | bytes[3];
}

}  // namespace

std::string forbidden_address_reason(std::string_view address) {
  const std::string text(address);
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) return ipv4_reason(ntohl(v4.s_addr));
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) != 1) return "not an IP address";
  const unsigned char* b = v6.s6_addr;
  static constexpr std::array<unsigned char, 16> kZero{};
  static constexpr std::array<unsigned char, 16> kLoopback{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  if (std::memcmp(b, kZero.data(), 16) == 0) return "unspecified";
  if (std::memcmp(b, kLoopback.data(), 16) == 0) return "loopback";
  // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated)
  const bool mapped = std::memcmp(b, kZero.data(), 10) == 0 && b[10] == 0xff && b[11] == 0xff;
  const bool compatible = std::memcmp(b, kZero.data(), 12) == 0;
  if (mapped || compatible) {
    const std::string reason = ipv4_reason(read_v4(b + 12));
    return reason.empty() ? (compatible ? "reserved" : "") : reason;
  }
  // 64:ff9b::/96 NAT64 carries an IPv4 address too.
  static constexpr std::array<unsigned char, 12> kNat64{0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  if (std::memcmp(b, kNat64.data(), 12) == 0) return ipv4_reason(read_v4(b + 12));
  if (b[0] == 0x20 && b[1] == 0x02) return ipv4_reason(read_v4(b + 2));  // 6to4
  if ((b[0] & 0xfe) == 0xfc) return b[0] == 0xfd && b[1] == 0x00 && b[2] == 0x0e && b[3] == 0xc2 ? "metadata" : "private";
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return "link-local";
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return "site-local";
  if (b[0] == 0xff) return "multicast";
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) return "documentation";
  return {};
}

}  // namespace core
