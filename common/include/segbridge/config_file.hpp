#pragma once
// Reading TOML config files (segbridged.conf, insert-ethers-shim.conf) with
// errors an admin can act on: every problem is reported as
// "file:line:column: message", all problems are collected (not just the
// first), and keys nobody asked for are errors, so a typo never silently
// falls back to a default.
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <toml++/toml.h>

namespace segbridge::config {

class Errors {
 public:
  void add(const std::string& file, const toml::source_region& where, const std::string& message);
  void add(const std::string& file, const std::string& message);  // no position known
  bool empty() const { return messages_.empty(); }
  const std::vector<std::string>& messages() const { return messages_; }
  std::string joined() const;  // one message per line

 private:
  std::vector<std::string> messages_;
};

// Parses `path`; on a syntax error records it in `errors` and returns nullopt.
std::optional<toml::table> parse_file(const std::string& path, Errors& errors);
std::optional<toml::table> parse_string(const std::string& text, const std::string& name, Errors& errors);

// A view of one table that remembers which keys were read. Call finish() after
// reading everything to report the keys that were never asked for.
class Section {
 public:
  Section(const toml::table& table, std::string path, std::string file, Errors& errors);

  std::optional<std::string> get_string(const std::string& key);
  std::string get_string(const std::string& key, const std::string& fallback);
  std::optional<std::string> require_string(const std::string& key);
  std::optional<std::int64_t> get_int(const std::string& key, std::int64_t min, std::int64_t max);
  std::int64_t get_int(const std::string& key, std::int64_t fallback, std::int64_t min, std::int64_t max);
  bool get_bool(const std::string& key, bool fallback);
  std::optional<bool> get_bool(const std::string& key);
  std::vector<std::string> get_string_array(const std::string& key);
  // Integers in [min, max]; each bad element is an error at its own position.
  std::vector<std::int64_t> get_int_array(const std::string& key, std::int64_t min, std::int64_t max);
  // One of `choices`; an error naming them otherwise.
  std::string get_choice(const std::string& key, const std::string& fallback, const std::vector<std::string>& choices);

  std::optional<Section> get_table(const std::string& key);
  std::vector<Section> get_array_of_tables(const std::string& key);

  bool has(const std::string& key) const;
  // Record an error at this key's position (or the table's if absent).
  void error(const std::string& key, const std::string& message);
  void finish();  // unknown keys → errors

  const std::string& path() const { return path_; }
  const std::string& file() const { return file_; }
  const toml::source_region& where() const { return table_->source(); }

 private:
  const toml::node* lookup(const std::string& key);
  void type_error(const std::string& key, const toml::node& node, const std::string& expected);
  std::string qualified(const std::string& key) const;

  const toml::table* table_;
  std::string path_;
  std::string file_;
  Errors* errors_;
  std::set<std::string> seen_;
};

}  // namespace segbridge::config
