// Structured log lines (text `key=value` or one JSON object per line) on stderr or a sink.
// Thread-safe: each line is written whole (one write(2) on stderr; under a mutex for a sink).
#pragma once

#include <cstdio>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>

#include "core/clock.h"

namespace app {

enum class LogFormat { kText, kJson };
enum class LogLevel { kInfo, kWarn, kError };

class Log {
 public:
  using Field = std::pair<std::string_view, nlohmann::json>;
  using Sink = std::function<void(std::string_view line)>;

  // Writes to stderr unless a sink is given (tests capture lines this way).
  Log(LogFormat format, const core::Clock& clock, Sink sink = nullptr)
      : format_(format), clock_(clock), sink_(std::move(sink)) {}

  void write(LogLevel level, std::string_view message, std::initializer_list<Field> fields = {});
  void info(std::string_view message, std::initializer_list<Field> fields = {}) {
    write(LogLevel::kInfo, message, fields);
  }
  void warn(std::string_view message, std::initializer_list<Field> fields = {}) {
    write(LogLevel::kWarn, message, fields);
  }
  void error(std::string_view message, std::initializer_list<Field> fields = {}) {
    write(LogLevel::kError, message, fields);
  }

 private:
  LogFormat format_;
  const core::Clock& clock_;
  Sink sink_;
  std::mutex mutex_;
};

}  // namespace app
