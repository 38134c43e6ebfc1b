// insert-ethers-shim: command line entry point (daemon and admin commands).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "feeders.hpp"
#include "ledger.hpp"
#include "segbridge/json_text.hpp"
#include "segbridge/log.hpp"
#include "segbridge/version.hpp"
#include "shim_config.hpp"
#include "shim_daemon.hpp"

using namespace segbridge;
using namespace segbridge::shim;

namespace {

constexpr const char* kDefaultConfig = "/etc/segbridge/insert-ethers-shim.conf";

std::string usage() {
  return R"(NAME
    insert-ethers-shim - make Rocks insert-ethers see PXE clients behind a bridge

SYNOPSIS
    insert-ethers-shim [-c FILE]                 run in the foreground (systemd style)
    insert-ethers-shim --check [-c FILE]         validate the configuration and exit
    insert-ethers-shim [-c FILE] list [--json]   print the ledger
    insert-ethers-shim [-c FILE] show MAC        print one ledger entry in full
    insert-ethers-shim [-c FILE] forget MAC      delete a MAC from the ledger
    insert-ethers-shim [-c FILE] announce MAC    announce a MAC now (and queue it again)
    insert-ethers-shim [-c FILE] registered MAC [--host NAME]
                                                 mark a MAC registered now (Rocks' plugin
                                                 calls this when insert-ethers added it)
    insert-ethers-shim [-c FILE] stats [--json]  counters saved by the running daemon
    insert-ethers-shim --help | --version

DESCRIPTION
    Rocks' insert-ethers registers a node only when /var/log/messages holds
    "dhcpd: DHCPDISCOVER from <mac> via <private-if>". Nodes reached through
    a bridge (br0, e.g. across segbridged tunnels) are logged by dhcpd as
    "via br0" and ignored. The shim captures client DHCP requests on the
    bridge with libpcap, works out which bridge port (site) each MAC is
    behind, records it durably in an SQLite ledger and then writes the line
    insert-ethers accepts (program "dhcpd", facility daemon) to syslog.

    A MAC moves through: discovered -> announced -> registered, or ignored.
    Announcements happen only while insert-ethers runs (its lock file exists)
    and are repeated with exponential backoff until the registered check
    (default `rocks list host interface`) lists the MAC.

    Whether local (non-tunnel) nodes are announced follows the topology: if
    the private interface is a port of the sniffed bridge, dhcpd logs every
    node via the bridge and all PXE clients are announced; otherwise only
    clients behind tunnel ports (named <tunnel_port_prefix><site>) are.
    The config key announce_local overrides the detection.

OPTIONS
    -c, --config FILE   configuration (TOML); default )" +
         std::string(kDefaultConfig) + R"(
        --check         report every configuration error as file:line:col and
                        exit 1 if there is any, 0 otherwise
        --json          machine-readable output for list and stats
        --host NAME     with registered: the Rocks host name, kept in the ledger
    -h, --help          this text
        --version       print the version

SIGNALS
    SIGTERM, SIGINT     stop (pending MACs stay in the ledger)
    SIGHUP              re-check topology and registrations immediately

FILES
    )" + std::string(kDefaultConfig) +
         R"(
    /var/lib/insert-ethers-shim/ledger.db   (config key "ledger")
    /var/lock/insert-ethers                 (config key "lock_file")

EXAMPLES
    insert-ethers-shim --check -c /etc/segbridge/insert-ethers-shim.conf
    insert-ethers-shim list                      what was seen, from which site, in which state
    insert-ethers-shim show 52:54:00:12:34:56    one MAC: options, announcements, registration
    insert-ethers-shim announce 52:54:00:12:34:56
                                                 re-send now, e.g. after restarting insert-ethers
    insert-ethers-shim forget 52:54:00:12:34:56  let a re-imaged node be discovered afresh

EXIT STATUS
    0 success; 1 configuration, ledger or runtime error; 2 usage error;
    3 MAC not found (show, forget).

SEE ALSO
    docs/insert-ethers-shim.conf.md, insert-ethers(8), segbridged(8)
)";
}

std::string format_time(std::int64_t ms) {
  if (ms <= 0) return "-";
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::string entry_json(const LedgerEntry& e) {
  std::ostringstream o;
  o << "{\"mac\":\"" << e.mac.to_string() << "\",\"state\":\"" << mac_state_name(e.state) << "\",\"site\":\""
    << json_escape(e.site) << "\",\"port\":\"" << json_escape(e.port) << "\",\"first_seen_ms\":" << e.first_seen_ms
    << ",\"last_seen_ms\":" << e.last_seen_ms << ",\"seen_count\":" << e.seen_count << ",\"vendor_class\":\""
    << json_escape(e.vendor_class) << "\",\"arch\":\"" << json_escape(e.arch) << "\",\"uuid\":\"" << json_escape(e.uuid)
    << "\",\"hostname\":\"" << json_escape(e.hostname) << "\",\"ignore_reason\":\"" << json_escape(e.ignore_reason)
    << "\",\"announce_count\":" << e.announce_count << ",\"last_announce_ms\":" << e.last_announce_ms
    << ",\"registered_ms\":" << e.registered_ms << ",\"registered_host\":\"" << json_escape(e.registered_host) << "\"}";
  return o.str();
}

int cmd_list(Ledger& ledger, bool json) {
  auto rows = ledger.all();
  if (json) {
    std::cout << "[";
    for (std::size_t i = 0; i < rows.size(); ++i) std::cout << (i ? "," : "") << entry_json(rows[i]);
    std::cout << "]\n";
    return 0;
  }
  std::printf("%-17s  %-10s  %-12s  %-12s  %-9s  %5s  %5s  %-19s\n", "MAC", "STATE", "SITE", "PORT", "ARCH", "SEEN",
              "ANN", "LAST SEEN");
  for (const auto& e : rows) {
    std::string state = mac_state_name(e.state);
    if (e.state == MacState::ignored && !e.ignore_reason.empty()) state += "(" + e.ignore_reason + ")";
    std::printf("%-17s  %-10s  %-12s  %-12s  %-9s  %5lld  %5lld  %-19s\n", e.mac.to_string().c_str(), state.c_str(),
                e.site.c_str(), e.port.c_str(), e.arch.empty() ? "-" : e.arch.c_str(),
                static_cast<long long>(e.seen_count), static_cast<long long>(e.announce_count),
                format_time(e.last_seen_ms).c_str());
  }
  return 0;
}

int cmd_show(Ledger& ledger, const MacAddress& mac) {
  auto e = ledger.find(mac);
  if (!e) {
    std::cerr << "insert-ethers-shim: " << mac.to_string() << " is not in the ledger\n";
    return 3;
  }
  std::printf("mac:            %s\n", e->mac.to_string().c_str());
  std::printf("state:          %s%s\n", mac_state_name(e->state),
              e->ignore_reason.empty() ? "" : (" (" + e->ignore_reason + ")").c_str());
  std::printf("site:           %s\n", e->site.c_str());
  std::printf("port:           %s\n", e->port.empty() ? "-" : e->port.c_str());
  std::printf("first seen:     %s\n", format_time(e->first_seen_ms).c_str());
  std::printf("last seen:      %s\n", format_time(e->last_seen_ms).c_str());
  std::printf("seen:           %lld times\n", static_cast<long long>(e->seen_count));
  std::printf("vendor class:   %s\n", e->vendor_class.c_str());
  std::printf("architecture:   %s\n", e->arch.empty() ? "-" : e->arch.c_str());
  std::printf("uuid:           %s\n", e->uuid.empty() ? "-" : e->uuid.c_str());
  std::printf("hostname:       %s\n", e->hostname.empty() ? "-" : e->hostname.c_str());
  std::printf("announced:      %lld times, last %s\n", static_cast<long long>(e->announce_count),
              format_time(e->last_announce_ms).c_str());
  std::printf("registered:     %s%s\n", format_time(e->registered_ms).c_str(),
              e->registered_host.empty() ? "" : (" as " + e->registered_host).c_str());
  return 0;
}

int cmd_stats(Ledger& ledger, bool json) {
  auto c = ledger.counters();
  if (json) {
    std::cout << "{";
    bool first = true;
    for (const auto& [k, v] : c) {
      std::cout << (first ? "" : ",") << "\"" << json_escape(k) << "\":" << v;
      first = false;
    }
    std::cout << "}\n";
    return 0;
  }
  if (c.empty()) std::cout << "no counters saved yet (the daemon saves them every counters_interval seconds)\n";
  for (const auto& [k, v] : c) std::printf("%-32s %llu\n", k.c_str(), static_cast<unsigned long long>(v));
  return 0;
}

// Announces synchronously through the configured feeder.
int cmd_announce(const ShimConfig& config, Ledger& ledger, const MacAddress& mac) {
  const std::int64_t now = wall_ms();
  auto e = ledger.find(mac);
  if (!e) {
    LedgerEntry n;
    n.mac = mac;
    n.first_seen_ms = n.last_seen_ms = now;
    n.seen_count = 0;
    n.site = "manual";
    ledger.insert(n);
    e = n;
  } else {
    ledger.requeue(mac);
  }
  if (!config.lock_file.empty() && ::access(config.lock_file.c_str(), F_OK) != 0) {
    std::cerr << "insert-ethers-shim: warning: " << config.lock_file
              << " is absent (insert-ethers not running): nobody may read this announcement\n";
  }
  std::string error;
  FeedResult r = FeedResult::failed;
  if (config.feeder == FeederKind::exec) {
    pid_t child_pid = -1;
    ExecFeeder f(
        config.exec_command, config.private_interface, config.exec_timeout_s,
        [&](const MacAddress&, ChildProcess p) { child_pid = p.pid; }, [] { return wall_ms(); });
    r = f.announce(*e, error);
    if (r == FeedResult::started) {
      int status = 0;
      const std::int64_t deadline = wall_ms() + config.exec_timeout_s * 1000;
      while (::waitpid(child_pid, &status, WNOHANG) == 0) {
        if (wall_ms() > deadline) {
          ::kill(child_pid, SIGKILL);
          ::waitpid(child_pid, &status, 0);
          break;
        }
        ::usleep(20000);
      }
      r = WIFEXITED(status) && WEXITSTATUS(status) == 0 ? FeedResult::done : FeedResult::failed;
      if (r == FeedResult::failed) {
        error = WIFSIGNALED(status) ? "command killed (signal " + std::to_string(WTERMSIG(status)) + ", exec_timeout?)"
                                    : "command exited with status " + std::to_string(WEXITSTATUS(status));
      }
    }
  } else if (config.feeder == FeederKind::file) {
    FileFeeder f(config.feed_file, config.private_interface);
    r = f.announce(*e, error);
  } else {
    SyslogFeeder f(config.syslog_socket, config.private_interface);
    r = f.announce(*e, error);
  }
  if (r != FeedResult::done) {
    std::cerr << "insert-ethers-shim: announcing " << mac.to_string() << " failed: " << error
              << " (it stays queued for the daemon)\n";
    return 1;
  }
  ledger.mark_announced(mac, now);
  std::cout << "announced " << mac.to_string() << " via " << feeder_name(config.feeder) << "\n";
  return 0;
}

int usage_error(const std::string& msg) {
  std::cerr << "insert-ethers-shim: " << msg << "\nTry 'insert-ethers-shim --help'.\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path = kDefaultConfig;
  bool check = false, json = false;
  std::string host;
  std::vector<std::string> words;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::cout << usage();
      return 0;
    } else if (a == "--version") {
      std::cout << "insert-ethers-shim " << segbridge::kVersion << "\n";
      return 0;
    } else if (a == "-c" || a == "--config") {
      if (++i >= argc) return usage_error(a + " needs a file name");
      config_path = argv[i];
    } else if (a.rfind("--config=", 0) == 0) {
      config_path = a.substr(9);
    } else if (a == "--check") {
      check = true;
    } else if (a == "--json") {
      json = true;
    } else if (a == "--host") {
      if (++i >= argc) return usage_error("--host needs a host name");
      host = argv[i];
    } else if (!a.empty() && a[0] == '-') {
      return usage_error("unknown option '" + a + "'");
    } else {
      words.push_back(a);
    }
  }

  config::Errors errors;
  auto config = load_shim_config(config_path, errors);
  if (!config) {
    std::cerr << errors.joined();
    return 1;
  }
  if (check) {
    if (!words.empty()) return usage_error("--check takes no command");
    std::cout << config_path << ": OK\n";
    return 0;
  }

  std::string lookup_error, lookup_warning;
  const bool needs_interface = words.empty() || words[0] == "announce";
  if (needs_interface && !resolve_private_interface(*config, lookup_error, lookup_warning)) {
    std::cerr << "insert-ethers-shim: " << lookup_error << "\n";
    return 1;
  }

  if (words.empty()) {
    log::Options lo;
    lo.ident = "insert-ethers-shim";
    lo.min_level = config->log_level;
    lo.to_syslog = config->log_syslog;
    log::configure(lo);
    if (config->private_interface_from_rocks) {
      log::notice("private interface from Rocks: " + config->private_interface);
      if (!lookup_warning.empty()) log::warning(lookup_warning);
    }
    try {
      ShimDaemon daemon(*config);
      return daemon.run();
    } catch (const std::exception& e) {
      log::error(e.what());
      return 1;
    }
  }

  const std::string& cmd = words[0];
  auto need_mac = [&](std::optional<MacAddress>& mac) -> int {
    if (words.size() != 2) return usage_error(cmd + " needs exactly one MAC address");
    mac = MacAddress::parse(words[1]);
    if (!mac) return usage_error("'" + words[1] + "' is not a MAC address");
    return 0;
  };
  try {
    if (cmd == "list" || cmd == "stats") {
      if (words.size() != 1) return usage_error(cmd + " takes no arguments");
      Ledger ledger(config->ledger, Ledger::Mode::existing);
      return cmd == "list" ? cmd_list(ledger, json) : cmd_stats(ledger, json);
    }
    if (cmd == "registered") {
      std::optional<MacAddress> mac;
      if (int rc = need_mac(mac)) return rc;
      Ledger ledger(config->ledger, Ledger::Mode::create);
      if (!ledger.find(*mac)) {
        // insert-ethers saw it by itself (a local node): nothing to stop.
        std::cout << mac->to_string() << " is not in the ledger; nothing to do\n";
        return 0;
      }
      ledger.mark_registered(*mac, wall_ms(), host);
      std::cout << "marked " << mac->to_string() << " registered" << (host.empty() ? "" : " as " + host) << "\n";
      return 0;
    }
    if (cmd == "show" || cmd == "forget" || cmd == "announce") {
      std::optional<MacAddress> mac;
      if (int rc = need_mac(mac)) return rc;
      Ledger ledger(config->ledger, cmd == "announce" ? Ledger::Mode::create : Ledger::Mode::existing);
      if (cmd == "show") return cmd_show(ledger, *mac);
      if (cmd == "announce") return cmd_announce(*config, ledger, *mac);
      if (!ledger.forget(*mac)) {
        std::cerr << "insert-ethers-shim: " << mac->to_string() << " is not in the ledger\n";
        return 3;
      }
      std::cout << "forgot " << mac->to_string() << "\n";
      return 0;
    }
  } catch (const std::exception& e) {
    std::cerr << "insert-ethers-shim: " << e.what() << "\n";
    return 1;
  }
  return usage_error("unknown command '" + cmd + "'");
}
