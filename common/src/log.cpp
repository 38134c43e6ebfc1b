#include "segbridge/log.hpp"

#include <syslog.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace segbridge::log {
namespace {

std::mutex g_mutex;
Options g_options;

int syslog_priority(Level level) {
  switch (level) {
    case Level::debug:
      return LOG_DEBUG;
    case Level::info:
      return LOG_INFO;
    case Level::notice:
      return LOG_NOTICE;
    case Level::warning:
      return LOG_WARNING;
    case Level::error:
      return LOG_ERR;
  }
  return LOG_INFO;
}

const char* level_tag(Level level) {
  switch (level) {
    case Level::debug:
      return "debug";
    case Level::info:
      return "info";
    case Level::notice:
      return "notice";
    case Level::warning:
      return "warning";
    case Level::error:
      return "error";
  }
  return "info";
}

}  // namespace

void configure(const Options& options) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_options.to_syslog) closelog();
  g_options = options;
  if (g_options.to_syslog) openlog(g_options.ident.c_str(), LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

std::optional<Level> parse_level(std::string_view name) {
  if (name == "debug") return Level::debug;
  if (name == "info") return Level::info;
  if (name == "notice") return Level::notice;
  if (name == "warning") return Level::warning;
  if (name == "error") return Level::error;
  return std::nullopt;
}

bool enabled(Level level) {
  std::lock_guard<std::mutex> lock(g_mutex);
  return level >= g_options.min_level;
}

void write(Level level, std::string_view message) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (level < g_options.min_level) return;
  if (g_options.to_stderr) {
    char stamp[32] = "";
    if (g_options.stderr_timestamps) {
      auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
      std::tm tm{};
      localtime_r(&now, &tm);
      std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S ", &tm);
    }
    std::fprintf(stderr, "%s%s: %s: %.*s\n", stamp, g_options.ident.c_str(), level_tag(level),
                 static_cast<int>(message.size()), message.data());
  }
  if (g_options.to_syslog) {
    syslog(syslog_priority(level), "%.*s", static_cast<int>(message.size()), message.data());
  }
}

}  // namespace segbridge::log
