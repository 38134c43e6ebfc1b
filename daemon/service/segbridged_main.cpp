// segbridged: the segbridge L2 tunnel daemon (command line front end).
#include <sodium.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include "config.hpp"
#include "daemon.hpp"
#include "segbridge/crypto/key_file.hpp"
#include "segbridge/log.hpp"
#include "segbridge/version.hpp"

namespace {

using namespace segbridge;

constexpr const char* kUsage = R"(Usage: segbridged [-c FILE] [--foreground] [-d]
       segbridged --check -c FILE
       segbridged genkey
       segbridged pubkey < PRIVATE_KEY_FILE
       segbridged --help | --version

segbridged bridges remote Ethernet segments into a local Linux bridge over
UDP. Each configured peer gets a tap interface named sb-<peer>, enslaved to
the configured bridge; frames read from a tap are encrypted (ChaCha20-Poly1305
or AES-256-GCM with per-session keys) and sent to that peer, frames arriving
from a peer pass its frame filters (DHCP server replies and syslog from remote
sites are dropped by default) and are written to its tap. Sites authenticate
each other with X25519 key pairs (Noise IK, forward secrecy, keys renewed
every 2 minutes); a shared-key PSK mode remains for legacy setups. Full-size 1514/1518-byte frames cross a
1500-byte path: they are fragmented inside the tunnel, the outer UDP is never
IP-fragmented. A hub listens and serves many spokes (which may sit behind NAT
and change address); a spoke connects to its hub.

The daemon runs in the foreground (as systemd expects) and logs to stderr,
and to syslog (facility daemon) when the config says syslog = true.

Options:
  -c, --config FILE  configuration file (default /etc/segbridge/segbridged.conf;
                     format: docs/segbridged.conf.md)
      --check        validate the configuration (including key files) and
                     exit: every problem is printed as file:line:col: message;
                     exit status 1 if there is any
  -d, --debug        log at debug level regardless of log_level
      --foreground   accepted for compatibility (always in the foreground)
  -h, --help         this text
  -V, --version      print the version

Commands:
  genkey             print a new random 32-byte key, base64: a site's X25519
                     private key (private_key_file) or a PSK (psk_file):
                       umask 077; segbridged genkey > /etc/segbridge/private.key
  pubkey             read a private key (base64) on standard input, print its
                     public key: the value other sites put in public_key:
                       segbridged pubkey < /etc/segbridge/private.key

Key files must be owned by root and not accessible by group or others
(chmod 600); segbridged refuses to start otherwise (docs/SECURITY.md).

Signals:
  SIGTERM, SIGINT    clean shutdown: removes the daemon's taps, and the bridge
                     if the daemon created it and remove_bridge_on_exit = true
  SIGHUP             reload the configuration: peers added, removed or changed
                     are applied one by one, the others' traffic is not
                     disturbed; a configuration with errors is logged and
                     ignored (the running one stays)

Status: segbridgectl [-s SOCKET] status [--json]

Exit status: 0 clean shutdown, 1 configuration or startup error, 2 usage error.
)";

constexpr const char* kDefaultConfig = "/etc/segbridge/segbridged.conf";

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "segbridged: %s\nTry 'segbridged --help'.\n", msg.c_str());
  return 2;
}

// Config + key files; prints every error. True if the config is usable.
std::optional<daemon::DaemonConfig> load_checked(const std::string& path, bool print) {
  config::Errors errors;
  auto cfg = daemon::load_config_file(path, errors);
  if (cfg) daemon::check_key_files(*cfg, errors);
  if (!errors.empty()) {
    if (print) std::fputs(errors.joined().c_str(), stderr);
    return std::nullopt;
  }
  return cfg;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path = kDefaultConfig;
  bool check = false, debug = false;
  std::string command;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (a == "-V" || a == "--version") {
      std::printf("segbridged %s\n", kVersion);
      return 0;
    }
    if (a == "-c" || a == "--config") {
      if (i + 1 >= argc) return usage_error(a + " needs a file name");
      config_path = argv[++i];
    } else if (a.rfind("--config=", 0) == 0) {
      config_path = a.substr(9);
    } else if (a == "--check") {
      check = true;
    } else if (a == "-d" || a == "--debug") {
      debug = true;
    } else if (a == "--foreground" || a == "-f") {
      // always
    } else if ((a == "genkey" || a == "pubkey") && command.empty()) {
      command = a;
    } else {
      return usage_error("unknown argument '" + a + "'");
    }
  }
  if (sodium_init() < 0) {
    std::fprintf(stderr, "segbridged: libsodium failed to initialise\n");
    return 1;
  }
  if (command == "genkey") {
    if (check) return usage_error("genkey takes no --check");
    std::printf("%s\n", crypto::generate_private_key_base64().c_str());
    return 0;
  }
  if (command == "pubkey") {
    if (check) return usage_error("pubkey takes no --check");
    return crypto::run_pubkey(std::cin, std::cout, std::cerr);
  }
  if (check) {
    auto cfg = load_checked(config_path, true);
    if (!cfg) return 1;
    std::printf("%s: OK (%s '%s', %s, %zu peer%s)\n", config_path.c_str(), daemon::to_string(cfg->role),
                cfg->name.c_str(), daemon::to_string(cfg->handshake), cfg->peers.size(),
                cfg->peers.size() == 1 ? "" : "s");
    return 0;
  }

  auto cfg = load_checked(config_path, true);
  if (!cfg) {
    std::fprintf(stderr, "segbridged: not starting: %s has errors\n", config_path.c_str());
    return 1;
  }
  log::Options lo;
  lo.ident = "segbridged";
  lo.min_level = debug ? log::Level::debug : log::parse_level(cfg->log_level).value_or(log::Level::info);
  lo.to_syslog = cfg->syslog;
  log::configure(lo);
  try {
    daemon::Daemon d(*cfg, debug);
    return d.run();
  } catch (const std::exception& e) {
    log::error(std::string("fatal: ") + e.what());
    return 1;
  }
}
