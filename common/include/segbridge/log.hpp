#pragma once
// Process-wide logging: stderr (for systemd's journal) and optionally syslog.
// Thread-safe; one line per call. Formatting is done by the caller
// (std::ostringstream or string concatenation) to keep this dependency-free.
#include <optional>
#include <string>
#include <string_view>

namespace segbridge::log {

enum class Level { debug = 0, info, notice, warning, error };

struct Options {
  std::string ident = "segbridge";  // program name for syslog and the stderr prefix
  Level min_level = Level::info;
  bool to_stderr = true;
  bool to_syslog = false;
  bool stderr_timestamps = false;  // systemd adds its own
};

void configure(const Options& options);
std::optional<Level> parse_level(std::string_view name);
bool enabled(Level level);
void write(Level level, std::string_view message);

inline void debug(std::string_view m) {
  write(Level::debug, m);
}
inline void info(std::string_view m) {
  write(Level::info, m);
}
inline void notice(std::string_view m) {
  write(Level::notice, m);
}
inline void warning(std::string_view m) {
  write(Level::warning, m);
}
inline void error(std::string_view m) {
  write(Level::error, m);
}

}  // namespace segbridge::log
