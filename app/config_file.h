// The --config file: TOML 1.0 (parsed by toml++), each key checked against the type of the
// command-line option of the same name and fed to that option. Not thread-safe; called once
// by the command-line parser.
#pragma once

#include <map>
#include <optional>
#include <string>

namespace CLI {
class Option;
}

namespace app {

// What a key's TOML value must be.
enum class ConfigValueKind {
  kString,       // "text"
  kInteger,      // 8 (a TOML integer; "8" is refused)
  kNumber,       // 2.5 or 10 (a float or an integer)
  kBoolean,      // true / false
  kStringList,   // ["a", "b"]
  kIntegerList,  // [5, 30, 120]
};

struct ConfigKey {
  CLI::Option* option;
  ConfigValueKind kind;
};

// Reads `path` and gives each key's value to its option, unless the option already has one (from
// a flag or a COBINAR_* variable, which win over the file). Returns nullopt, or the first problem
// as "<path>:<line>[:<column>]: ..." — a syntax error, an unknown key, a wrong type or a value
// its option refuses. Keys are the long option names without "--", at the top level only.
std::optional<std::string> apply_config_file(const std::string& path, const std::map<std::string, ConfigKey>& keys);

}  // namespace app
