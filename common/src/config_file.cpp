#include "segbridge/config_file.hpp"

#include <sstream>

namespace segbridge::config {

void Errors::add(const std::string& file, const toml::source_region& where, const std::string& message) {
  std::ostringstream out;
  out << file << ':' << where.begin.line << ':' << where.begin.column << ": " << message;
  messages_.push_back(out.str());
}

void Errors::add(const std::string& file, const std::string& message) {
  messages_.push_back(file + ": " + message);
}

std::string Errors::joined() const {
  std::string out;
  for (const auto& m : messages_) out += m + "\n";
  return out;
}

std::optional<toml::table> parse_file(const std::string& path, Errors& errors) {
  try {
    return toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto& src = e.source();
    if (src.begin.line == 0) {
      errors.add(path, std::string(e.description()));
    } else {
      errors.add(path, src, std::string(e.description()));
    }
    return std::nullopt;
  }
}

std::optional<toml::table> parse_string(const std::string& text, const std::string& name, Errors& errors) {
  try {
    return toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    errors.add(name, e.source(), std::string(e.description()));
    return std::nullopt;
  }
}

Section::Section(const toml::table& table, std::string path, std::string file, Errors& errors)
    : table_(&table), path_(std::move(path)), file_(std::move(file)), errors_(&errors) {}

std::string Section::qualified(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

const toml::node* Section::lookup(const std::string& key) {
  seen_.insert(key);
  return table_->get(key);
}

bool Section::has(const std::string& key) const {
  return table_->contains(key);
}

void Section::error(const std::string& key, const std::string& message) {
  const toml::node* node = table_->get(key);
  errors_->add(file_, node ? node->source() : table_->source(), "'" + qualified(key) + "': " + message);
}

void Section::type_error(const std::string& key, const toml::node& node, const std::string& expected) {
  std::ostringstream msg;
  msg << "'" << qualified(key) << "' must be " << expected << ", not " << node.type();
  errors_->add(file_, node.source(), msg.str());
}

std::optional<std::string> Section::get_string(const std::string& key) {
  const toml::node* node = lookup(key);
  if (!node) return std::nullopt;
  if (auto v = node->value<std::string>(); v && node->is_string()) return *v;
  type_error(key, *node, "a string");
  return std::nullopt;
}

std::string Section::get_string(const std::string& key, const std::string& fallback) {
  return get_string(key).value_or(fallback);
}

std::optional<std::string> Section::require_string(const std::string& key) {
  if (!has(key)) {
    seen_.insert(key);
    errors_->add(file_, table_->source(), "missing required key '" + qualified(key) + "'");
    return std::nullopt;
  }
  return get_string(key);
}

std::optional<std::int64_t> Section::get_int(const std::string& key, std::int64_t min, std::int64_t max) {
  const toml::node* node = lookup(key);
  if (!node) return std::nullopt;
  if (!node->is_integer()) {
    type_error(key, *node, "an integer");
    return std::nullopt;
  }
  std::int64_t v = **node->as_integer();
  if (v < min || v > max) {
    std::ostringstream msg;
    msg << "'" << qualified(key) << "' = " << v << " is out of range [" << min << ", " << max << "]";
    errors_->add(file_, node->source(), msg.str());
    return std::nullopt;
  }
  return v;
}

std::int64_t Section::get_int(const std::string& key, std::int64_t fallback, std::int64_t min, std::int64_t max) {
  return get_int(key, min, max).value_or(fallback);
}

std::optional<bool> Section::get_bool(const std::string& key) {
  const toml::node* node = lookup(key);
  if (!node) return std::nullopt;
  if (!node->is_boolean()) {
    type_error(key, *node, "true or false");
    return std::nullopt;
  }
  return **node->as_boolean();
}

bool Section::get_bool(const std::string& key, bool fallback) {
  return get_bool(key).value_or(fallback);
}

std::vector<std::string> Section::get_string_array(const std::string& key) {
  std::vector<std::string> out;
  const toml::node* node = lookup(key);
  if (!node) return out;
  const toml::array* arr = node->as_array();
  if (!arr) {
    type_error(key, *node, "an array of strings");
    return out;
  }
  for (const auto& elem : *arr) {
    if (!elem.is_string()) {
      type_error(key, elem, "a string (array element)");
      continue;
    }
    out.push_back(**elem.as_string());
  }
  return out;
}

std::vector<std::int64_t> Section::get_int_array(const std::string& key, std::int64_t min, std::int64_t max) {
  std::vector<std::int64_t> out;
  const toml::node* node = lookup(key);
  if (!node) return out;
  const toml::array* arr = node->as_array();
  if (!arr) {
    type_error(key, *node, "an array of integers");
    return out;
  }
  for (const auto& elem : *arr) {
    if (!elem.is_integer()) {
      type_error(key, elem, "an integer (array element)");
      continue;
    }
    std::int64_t v = **elem.as_integer();
    if (v < min || v > max) {
      std::ostringstream msg;
      msg << "'" << qualified(key) << "' element " << v << " is out of range [" << min << ", " << max << "]";
      errors_->add(file_, elem.source(), msg.str());
      continue;
    }
    out.push_back(v);
  }
  return out;
}

std::string Section::get_choice(const std::string& key, const std::string& fallback,
                                const std::vector<std::string>& choices) {
  auto v = get_string(key);
  if (!v) return fallback;
  for (const auto& c : choices)
    if (*v == c) return *v;
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
  error(key, "'" + *v + "' is not one of: " + list);
  return fallback;
}

std::optional<Section> Section::get_table(const std::string& key) {
  const toml::node* node = lookup(key);
  if (!node) return std::nullopt;
  if (!node->is_table()) {
    type_error(key, *node, "a table");
    return std::nullopt;
  }
  return Section(*node->as_table(), qualified(key), file_, *errors_);
}

std::vector<Section> Section::get_array_of_tables(const std::string& key) {
  std::vector<Section> out;
  const toml::node* node = lookup(key);
  if (!node) return out;
  const toml::array* arr = node->as_array();
  if (!arr) {
    type_error(key, *node, "an array of tables ([[" + qualified(key) + "]])");
    return out;
  }
  std::size_t i = 0;
  for (const auto& elem : *arr) {
    if (!elem.is_table()) {
      type_error(key, elem, "a table");
    } else {
      out.emplace_back(*elem.as_table(), qualified(key) + "[" + std::to_string(i) + "]", file_, *errors_);
    }
    ++i;
  }
  return out;
}

void Section::finish() {
  for (const auto& [k, node] : *table_) {
    std::string key(k.str());
    if (seen_.count(key) == 0) {
      errors_->add(file_, node.source(), "unknown key '" + qualified(key) + "'");
    }
  }
}

}  // namespace segbridge::config
