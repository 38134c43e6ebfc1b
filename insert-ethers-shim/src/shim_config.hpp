#pragma once
// insert-ethers-shim.conf: every setting, its default, and validation with
// file:line:col errors (docs/insert-ethers-shim.conf.md documents each key).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "segbridge/config_file.hpp"
#include "segbridge/log.hpp"

namespace segbridge::shim {

enum class FeederKind { syslog, file, exec };
enum class AnnounceLocal { automatic, always, never };

// A MAC ("52:54:00:12:34:56") or OUI ("52:54:00") pattern for allow/deny.
struct MacPattern {
  std::uint8_t bytes[6] = {};
  std::uint8_t length = 0;  // 3 (OUI) or 6 (full MAC)
  std::string text;
  static std::optional<MacPattern> parse(const std::string& text);
  bool matches(const std::uint8_t* mac) const;
};

struct MacFilter {
  std::vector<MacPattern> allow;  // empty: everything allowed
  std::vector<MacPattern> deny;
};

struct ShimConfig {
  std::string source_file;  // for messages

  std::vector<std::string> interfaces{"br0"};
  std::string private_interface = "eth0";
  // Ask Rocks instead (the device insert-ethers compares against); resolved
  // into private_interface at start by resolve_private_interface().
  bool private_interface_from_rocks = false;
  std::string rocks_interface_command = "rocks list host interface localhost";
  std::string ledger = "/var/lib/insert-ethers-shim/ledger.db";

  FeederKind feeder = FeederKind::syslog;
  std::string syslog_socket = "/dev/log";
  std::string feed_file;                  // feeder = "file"
  std::vector<std::string> exec_command;  // feeder = "exec": argv; MAC SITE ARCH UUID appended
  std::int64_t exec_timeout_s = 30;

  std::string lock_file = "/var/lock/insert-ethers";           // "" : announce without waiting
  std::string registered_check = "rocks list host interface";  // "" : announced is final
  std::int64_t registered_check_interval_s = 10;
  std::int64_t registered_check_timeout_s = 60;
  std::int64_t announce_backoff_initial_s = 2;
  std::int64_t announce_backoff_max_s = 300;

  std::string tunnel_port_prefix = "sb-";
  AnnounceLocal announce_local = AnnounceLocal::automatic;

  // Guards.
  bool pxe_only = true;
  std::int64_t new_macs_per_minute = 60;
  std::int64_t max_pending = 100;
  MacFilter global_filter;
  std::map<std::string, MacFilter> site_filters;  // key: site name ("local" included)

  // Capture.
  std::int64_t pcap_buffer_bytes = 4 << 20;
  bool promiscuous = true;
  std::int64_t interface_retry_s = 1;

  // Housekeeping.
  std::int64_t topology_check_interval_ms = 1000;
  std::int64_t counters_interval_s = 10;
  log::Level log_level = log::Level::info;
  bool log_syslog = false;
};

// Reads and validates `path`. Returns nullopt and fills `errors` on any error.
std::optional<ShimConfig> load_shim_config(const std::string& path, config::Errors& errors);
std::optional<ShimConfig> parse_shim_config(const std::string& text, const std::string& name, config::Errors& errors);

// With private_interface_from_rocks, replaces private_interface by Rocks'
// answer. False (with `error`) if Rocks cannot say.
bool resolve_private_interface(ShimConfig& config, std::string& error, std::string& warning);

const char* feeder_name(FeederKind k);
const char* announce_local_name(AnnounceLocal a);

}  // namespace segbridge::shim
