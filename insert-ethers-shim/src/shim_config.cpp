#include "shim_config.hpp"

#include <cstring>

#include "rocks_private_interface.hpp"
#include "segbridge/tap_device.hpp"

namespace segbridge::shim {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

MacFilter read_filter(config::Section& s) {
  MacFilter f;
  for (const char* key : {"allow", "deny"}) {
    for (const auto& text : s.get_string_array(key)) {
      auto p = MacPattern::parse(text);
      if (!p) {
        s.error(key, "'" + text + "' is not a MAC (aa:bb:cc:dd:ee:ff) or OUI (aa:bb:cc)");
        continue;
      }
      (std::strcmp(key, "allow") == 0 ? f.allow : f.deny).push_back(*p);
    }
  }
  return f;
}

bool valid_site_name(const std::string& s) {
  if (s.empty() || s.size() > 32) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
      return false;
  }
  return true;
}

std::optional<ShimConfig> read(const toml::table& table, const std::string& name, config::Errors& errors) {
  ShimConfig c;
  c.source_file = name;
  config::Section top(table, "", name, errors);

  if (top.has("interfaces")) {
    c.interfaces = top.get_string_array("interfaces");
    if (c.interfaces.empty()) top.error("interfaces", "must name at least one interface to capture on");
  }
  for (const auto& i : c.interfaces) {
    if (!valid_interface_name(i)) top.error("interfaces", "'" + i + "' is not a valid interface name");
  }
  c.private_interface = top.get_string("private_interface", c.private_interface);
  if (!valid_interface_name(c.private_interface)) {
    top.error("private_interface", "'" + c.private_interface + "' is not a valid interface name");
  }
  c.private_interface_from_rocks = top.get_bool("private_interface_from_rocks", false);
  c.rocks_interface_command = top.get_string("rocks_interface_command", c.rocks_interface_command);
  if (c.private_interface_from_rocks && top.has("private_interface")) {
    top.error("private_interface_from_rocks", "set either private_interface or private_interface_from_rocks, not both");
  }
  c.ledger = top.get_string("ledger", c.ledger);
  if (c.ledger.empty()) top.error("ledger", "must be a file path");

  std::string feeder = top.get_choice("feeder", "syslog", {"syslog", "file", "exec"});
  c.feeder = feeder == "file" ? FeederKind::file : feeder == "exec" ? FeederKind::exec : FeederKind::syslog;
  c.syslog_socket = top.get_string("syslog_socket", c.syslog_socket);
  c.feed_file = top.get_string("feed_file", "");
  c.exec_command = top.get_string_array("exec_command");
  c.exec_timeout_s = top.get_int("exec_timeout", c.exec_timeout_s, 1, 3600);
  if (c.feeder == FeederKind::syslog && c.syslog_socket.empty()) top.error("syslog_socket", "must be a socket path");
  if (c.feeder == FeederKind::file && c.feed_file.empty()) {
    top.error("feeder", "feeder = \"file\" needs feed_file = \"/path/to/file\"");
  }
  if (c.feeder == FeederKind::exec && c.exec_command.empty()) {
    top.error("feeder", "feeder = \"exec\" needs exec_command = [\"/path/to/program\", ...]");
  }

  c.lock_file = top.get_string("lock_file", c.lock_file);
  c.registered_check = top.get_string("registered_check", c.registered_check);
  c.registered_check_interval_s = top.get_int("registered_check_interval", c.registered_check_interval_s, 1, 3600);
  c.registered_check_timeout_s = top.get_int("registered_check_timeout", c.registered_check_timeout_s, 1, 3600);
  c.announce_backoff_initial_s = top.get_int("announce_backoff_initial", c.announce_backoff_initial_s, 1, 3600);
  c.announce_backoff_max_s = top.get_int("announce_backoff_max", c.announce_backoff_max_s, 1, 86400);
  if (c.announce_backoff_max_s < c.announce_backoff_initial_s) {
    top.error("announce_backoff_max", "must not be smaller than announce_backoff_initial");
  }

  c.tunnel_port_prefix = top.get_string("tunnel_port_prefix", c.tunnel_port_prefix);
  if (c.tunnel_port_prefix.empty()) top.error("tunnel_port_prefix", "must not be empty");
  std::string al = top.get_choice("announce_local", "auto", {"auto", "always", "never"});
  c.announce_local = al == "always"  ? AnnounceLocal::always
                     : al == "never" ? AnnounceLocal::never
                                     : AnnounceLocal::automatic;

  if (auto g = top.get_table("guards")) {
    c.pxe_only = g->get_bool("pxe_only", c.pxe_only);
    c.new_macs_per_minute = g->get_int("new_macs_per_minute", c.new_macs_per_minute, 1, 100000);
    c.max_pending = g->get_int("max_pending", c.max_pending, 1, 1000000);
    c.global_filter = read_filter(*g);
    g->finish();
  }
  if (auto sites = top.get_table("site")) {
    // [site.<name>] tables; read every key as a table.
    const toml::node* node = table.get("site");
    if (node && node->is_table()) {
      for (const auto& [k, v] : *node->as_table()) {
        std::string site(k.str());
        if (!valid_site_name(site)) sites->error(site, "site name must be [A-Za-z0-9_-], at most 32 characters");
        if (auto s = sites->get_table(site)) {
          c.site_filters[site] = read_filter(*s);
          s->finish();
        }
      }
    }
    sites->finish();
  }

  c.pcap_buffer_bytes = top.get_int("pcap_buffer_size", c.pcap_buffer_bytes, 65536, std::int64_t{1} << 30);
  c.promiscuous = top.get_bool("promiscuous", c.promiscuous);
  c.interface_retry_s = top.get_int("interface_retry", c.interface_retry_s, 1, 3600);
  c.topology_check_interval_ms = top.get_int("topology_check_interval_ms", c.topology_check_interval_ms, 100, 600000);
  c.counters_interval_s = top.get_int("counters_interval", c.counters_interval_s, 1, 3600);
  std::string level = top.get_choice("log_level", "info", {"debug", "info", "notice", "warning", "error"});
  c.log_level = log::parse_level(level).value_or(log::Level::info);
  c.log_syslog = top.get_bool("log_syslog", c.log_syslog);
  top.finish();
  if (!errors.empty()) return std::nullopt;
  return c;
}

}  // namespace

std::optional<MacPattern> MacPattern::parse(const std::string& text) {
  MacPattern p;
  p.text = text;
  std::size_t i = 0;
  while (i < text.size()) {
    if (p.length == 6) return std::nullopt;
    if (i + 1 >= text.size()) return std::nullopt;
    int hi = hex_value(text[i]), lo = hex_value(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    p.bytes[p.length++] = static_cast<std::uint8_t>(hi << 4 | lo);
    i += 2;
    if (i < text.size()) {
      if (text[i] != ':' && text[i] != '-') return std::nullopt;
      if (++i == text.size()) return std::nullopt;
    }
  }
  if (p.length != 3 && p.length != 6) return std::nullopt;
  return p;
}

bool MacPattern::matches(const std::uint8_t* mac) const {
  return std::memcmp(mac, bytes, length) == 0;
}

std::optional<ShimConfig> parse_shim_config(const std::string& text, const std::string& name, config::Errors& errors) {
  auto table = config::parse_string(text, name, errors);
  if (!table) return std::nullopt;
  return read(*table, name, errors);
}

std::optional<ShimConfig> load_shim_config(const std::string& path, config::Errors& errors) {
  auto table = config::parse_file(path, errors);
  if (!table) return std::nullopt;
  return read(*table, path, errors);
}

bool resolve_private_interface(ShimConfig& config, std::string& error, std::string& warning) {
  if (!config.private_interface_from_rocks) return true;
  PrivateInterfaceLookup r = query_rocks_private_interface(config.rocks_interface_command, 60);
  if (!r.device) {
    error = "cannot learn the private interface from Rocks: " + r.problem +
            " (set private_interface in the config instead)";
    return false;
  }
  if (!valid_interface_name(*r.device)) {
    error = "Rocks reports private interface '" + *r.device + "', which is not a valid interface name";
    return false;
  }
  warning = r.problem;
  config.private_interface = *r.device;
  return true;
}

const char* feeder_name(FeederKind k) {
  switch (k) {
    case FeederKind::syslog:
      return "syslog";
    case FeederKind::file:
      return "file";
    case FeederKind::exec:
      return "exec";
  }
  return "?";
}

const char* announce_local_name(AnnounceLocal a) {
  switch (a) {
    case AnnounceLocal::automatic:
      return "auto";
    case AnnounceLocal::always:
      return "always";
    case AnnounceLocal::never:
      return "never";
  }
  return "?";
}

}  // namespace segbridge::shim
