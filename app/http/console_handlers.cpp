// The web console: static files embedded at build time (console/), served with a strict
// Content-Security-Policy and ETag validation. No templating: the console is plain files
// that talk to /v1 like any other client.
#include <map>
#include <memory>

#include "app/http/handlers.h"

namespace app::http {

namespace {

// Applies to every console answer (files, 304s and redirects): scripts, styles and requests
// only from this origin, no inline code, never framed.
const std::vector<std::pair<std::string, std::string>>& console_headers() {
  static const std::vector<std::pair<std::string, std::string>> headers{
      {"Content-Security-Policy",
       "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"},
      {"X-Content-Type-Options", "nosniff"},
      {"Referrer-Policy", "no-referrer"},
      {"X-Frame-Options", "DENY"},
      {"Cross-Origin-Opener-Policy", "same-origin"},
      {"Cross-Origin-Resource-Policy", "same-origin"},
  };
  return headers;
}

std::string content_type_for(std::string_view name) {
  const auto ends = [&](std::string_view suffix) { return name.ends_with(suffix); };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".js") || ends(".mjs")) return "text/javascript; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  if (ends(".ico")) return "image/x-icon";
  if (ends(".json")) return "application/json; charset=utf-8";
  return "application/octet-stream";
}

// A strong validator from the bytes (FNV-1a, 64 bits): it changes whenever the file does.
std::string entity_tag(std::string_view bytes) {
  std::uint64_t hash = 1469598103934665603ULL;
  for (const unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string tag = "\"";
  for (int shift = 60; shift >= 0; shift -= 4) tag += kHex[(hash >> shift) & 0xF];
  return tag + "\"";
}

// True when If-None-Match names this tag (or is `*`); weak comparison, as RFC 9110 13.1.2 asks.
bool matches_if_none_match(std::string_view header, std::string_view tag) {
  if (header.empty()) return false;
  std::size_t start = 0;
  while (start < header.size()) {
    std::size_t end = header.find(',', start);
    if (end == std::string_view::npos) end = header.size();
    std::string_view item = header.substr(start, end - start);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item.starts_with("W/")) item.remove_prefix(2);
    if (item == "*" || item == tag) return true;
    start = end + 1;
  }
  return false;
}

struct Asset {
  std::string_view bytes;
  std::string content_type;
  std::string etag;
};

Reply with_console_headers(Reply reply) {
  for (const auto& header : console_headers()) reply.headers.push_back(header);
  return reply;
}

}  // namespace

Handler console_redirect() {
  return [](const HttpRequest&) -> core::Result<Reply> {
    Reply reply = Reply::plain("Redirecting to /console/\n", "text/plain; charset=utf-8", 302);
    reply.headers.emplace_back("Location", "/console/");
    reply.headers.emplace_back("Cache-Control", "no-cache");
    return with_console_headers(std::move(reply));
  };
}

Handler console_file(std::span<const embedded::File> files) {
  auto assets = std::make_shared<std::map<std::string, Asset, std::less<>>>();
  for (const auto& file : files) {
    assets->emplace(std::string(file.name), Asset{file.bytes, content_type_for(file.name), entity_tag(file.bytes)});
  }
  return [assets](const HttpRequest& request) -> core::Result<Reply> {
    const std::string name = request.path_params.empty() ? "index.html" : request.path_params.front();
    const auto found = assets->find(name);
    if (found == assets->end()) return core::Error::not_found("No console file " + name.substr(0, 100) + ".");
    const Asset& asset = found->second;
    Reply reply = matches_if_none_match(request.raw.get_header_value("If-None-Match"), asset.etag)
                      ? Reply::plain("", asset.content_type, 304)
                      : Reply::plain(std::string(asset.bytes), asset.content_type);
    reply.headers.emplace_back("ETag", asset.etag);
    // Revalidated on every use (a cheap 304): an upgraded binary is never mixed with old files.
    reply.headers.emplace_back("Cache-Control", "no-cache");
    return with_console_headers(std::move(reply));
  };
}

}  // namespace app::http
