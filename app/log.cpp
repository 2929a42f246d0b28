#include "app/log.h"

#include <unistd.h>

namespace app {

namespace {

std::string_view level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

bool needs_quotes(std::string_view text) {
  if (text.empty()) return true;
  for (char c : text) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) return true;
  }
  return false;
}

void append_text_value(std::string& line, const nlohmann::json& value) {
  if (!value.is_string()) {
    line += value.dump();
    return;
  }
  const auto& text = value.get_ref<const std::string&>();
  line += needs_quotes(text) ? value.dump() : text;  // dump() quotes and escapes
}

}  // namespace

void Log::write(LogLevel level, std::string_view message, std::initializer_list<Field> fields) {
  std::string line;
  const std::string time = core::format_timestamp(clock_.now());
  if (format_ == LogFormat::kJson) {
    nlohmann::json object = {{"time", time}, {"level", level_name(level)}, {"msg", message}};
    for (const auto& [key, value] : fields) object[std::string(key)] = value;
    line = object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line = time + " " + std::string(level_name(level)) + " " + std::string(message);
    for (const auto& [key, value] : fields) {
      line += ' ';
      line += key;
      line += '=';
      append_text_value(line, value);
    }
  }
  line += '\n';
  if (sink_) {
    std::lock_guard lock(mutex_);
    sink_(line);
    return;
  }
  // One write(2) per line and no lock: request threads never queue behind each other's log
  // I/O, and a line (< PIPE_BUF) is never interleaved with another.
  for (std::size_t written = 0; written < line.size();) {
    const ssize_t n = ::write(STDERR_FILENO, line.data() + written, line.size() - written);
    if (n <= 0) break;
    written += static_cast<std::size_t>(n);
  }
}

}  // namespace app
