#include "app/config_file.h"

// Header-only toml++ in this one translation unit: Debian ships the library only as a shared
// object, and the release binary is static.
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 1
#include <toml++/toml.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <vector>

namespace app {

namespace {

std::string describe(toml::node_type type) {
  switch (type) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::array: return "an array";
    case toml::node_type::table: return "a table";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    case toml::node_type::none: break;
  }
  return "nothing";
}

std::string expected(ConfigValueKind kind) {
  switch (kind) {
    case ConfigValueKind::kString: return "a string";
    case ConfigValueKind::kInteger: return "an integer";
    case ConfigValueKind::kNumber: return "a finite number";
    case ConfigValueKind::kBoolean: return "true or false";
    case ConfigValueKind::kStringList: return "a non-empty array of strings";
    case ConfigValueKind::kIntegerList: return "a non-empty array of integers";
  }
  return "?";
}

std::string number_text(double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

// The option inputs a value stands for, or nullopt when its TOML type is not the option's.
std::optional<std::vector<std::string>> inputs_of(const toml::node& node, ConfigValueKind kind) {
  switch (kind) {
    case ConfigValueKind::kString:
      if (const auto* text = node.as_string()) return std::vector<std::string>{text->get()};
      return std::nullopt;
    case ConfigValueKind::kInteger:
      if (const auto* number = node.as_integer()) return std::vector<std::string>{std::to_string(number->get())};
      return std::nullopt;
    case ConfigValueKind::kNumber:
      if (const auto* number = node.as_integer()) return std::vector<std::string>{std::to_string(number->get())};
      if (const auto* number = node.as_floating_point(); number && std::isfinite(number->get())) {
        return std::vector<std::string>{number_text(number->get())};
      }
      return std::nullopt;
    case ConfigValueKind::kBoolean:
      if (const auto* flag = node.as_boolean()) return std::vector<std::string>{flag->get() ? "true" : "false"};
      return std::nullopt;
    case ConfigValueKind::kStringList:
    case ConfigValueKind::kIntegerList: {
      const auto* array = node.as_array();
      if (!array || array->empty()) return std::nullopt;
      std::vector<std::string> inputs;
      for (const toml::node& element : *array) {
        auto one = inputs_of(element, kind == ConfigValueKind::kStringList ? ConfigValueKind::kString : ConfigValueKind::kInteger);
        if (!one) return std::nullopt;
        inputs.push_back(std::move(one->front()));
      }
      return inputs;
    }
  }
  return std::nullopt;
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// " (did you mean 'log-format'?)" for a near miss such as log_format or log-fromat.
std::string suggestion(const std::string& name, const std::map<std::string, ConfigKey>& keys) {
  std::string dashed = name;
  for (char& c : dashed) c = c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string best;
  std::size_t best_distance = 3;
  for (const auto& [key, unused] : keys) {
    const std::size_t distance = edit_distance(dashed, key);
    if (distance < best_distance) {
      best_distance = distance;
      best = key;
    }
  }
  return best.empty() ? "" : " (did you mean '" + best + "'?)";
}

}  // namespace

std::optional<std::string> apply_config_file(const std::string& path, const std::map<std::string, ConfigKey>& keys) {
  std::ifstream input(path, std::ios::binary);
  if (!input) return path + ": cannot read the config file (" + std::strerror(errno) + ")";
  toml::table table;
  try {
    table = toml::parse(input, path);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return path + ":" + std::to_string(where.line) + ":" + std::to_string(where.column) +
           ": syntax error: " + std::string(e.description());
  }

  for (auto&& [key, node] : table) {
    const std::string name(key.str());
    const auto line = key.source().begin.line != 0 ? key.source().begin.line : node.source().begin.line;
    const std::string where = path + ":" + std::to_string(line) + ": key '" + name + "': ";
    const auto found = keys.find(name);
    if (found == keys.end()) {
      if (node.is_table()) return where + "unknown option (tables are not used: options go at the top level)";
      return where + "unknown option" + suggestion(name, keys);
    }
    const ConfigKey& target = found->second;
    auto inputs = inputs_of(node, target.kind);
    if (!inputs) return where + "expected " + expected(target.kind) + ", not " + describe(node.type());
    if (target.option->count() > 0) continue;  // set by a flag or a COBINAR_* variable
    try {
      target.option->add_result(std::move(*inputs));
      target.option->run_callback();
    } catch (const CLI::Error& e) {
      return where + e.what();
    }
  }
  return std::nullopt;
}

}  // namespace app
