#pragma once
// segbridged.conf (TOML, documented in docs/segbridged.conf.md): the typed
// configuration and its validation. Every problem is collected with its
// file:line:column so `segbridged --check` can list them all at once.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "endpoint.hpp"
#include "segbridge/config_file.hpp"
#include "segbridge/core/frame_filter.hpp"

namespace segbridge::daemon {

enum class Role { hub, spoke };
const char* to_string(Role role);

// noise_ik: site key pairs (default when private_key_file is set);
// psk: the legacy shared-key handshake (default without private_key_file).
enum class Handshake { noise_ik, psk };
const char* to_string(Handshake handshake);

inline constexpr std::uint16_t kDefaultPort = 7440;
inline constexpr unsigned kMinPathMtu = 1280;  // IPv6 minimum link MTU
inline constexpr unsigned kMaxPathMtu = 9216;
inline constexpr std::size_t kMaxPeerNameLength = 12;  // "sb-" + 12 fits IFNAMSIZ-1

struct PeerConfig {
  std::string name;
  std::optional<EndpointSpec> endpoint;  // spoke: the hub (required); hub: optional
  std::string psk_file;                  // resolved: the peer's own or the daemon's
  unsigned keepalive_s = 10;
  std::optional<std::string> public_key;  // Noise IK: the peer's X25519 public key (base64)
  // Frame filters on what this peer sends into the bridge (docs/SECURITY.md).
  // Defaults depend on the role: a hub filters its spokes, a spoke lets the
  // hub (the frontend's dhcpd) serve DHCP.
  core::FrameFilterConfig filter;

  std::string tap_name() const { return "sb-" + name; }
  // Same settings (used by SIGHUP to decide whether a peer must be rebuilt).
  bool same_as(const PeerConfig& other) const;
};

struct DaemonConfig {
  std::string file;  // where it was read from
  std::string name;
  Role role = Role::hub;
  std::optional<EndpointSpec> listen;
  std::string bridge = "br0";
  bool create_bridge = true;
  bool remove_bridge_on_exit = false;
  std::vector<std::string> bridge_ports;
  std::string control_socket = "/run/segbridged/control.sock";
  unsigned path_mtu = 1500;
  // Taps with IFF_VNET_HDR + TSO/checksum offload: TCP super-frames are read
  // in one go and cut to fit one datagram (TsoSegmenter), and merged again on
  // receive (GroCoalescer).
  bool tap_offload = true;
  // Merge in-order TCP segments read from the tap in one wakeup and re-cut
  // them to fit one datagram (TxCoalescer): hosts without TSO send 1514-byte
  // frames that would otherwise each cost two fragments.
  bool tx_coalesce = true;
  std::string psk_file;
  Handshake handshake = Handshake::noise_ik;
  std::string private_key_file;  // Noise IK: this site's X25519 private key
  std::string user;              // drop to this user after setup (empty: stay root)
  std::string group;             // and this group (empty: the user's primary group)
  std::vector<std::string> keep_capabilities{"CAP_NET_ADMIN"};
  unsigned rekey_after_time_s = 120;  // REKEY_AFTER_TIME; lower only in tests
  std::string log_level = "info";
  bool syslog = false;
  std::vector<PeerConfig> peers;

  const PeerConfig* find_peer(const std::string& name) const;
};

// [a-z0-9-], 1..12 characters, not starting with '-'.
bool valid_peer_name(const std::string& name);

// Parses and validates. Returns nullopt if `errors` gained any entry.
std::optional<DaemonConfig> load_config_file(const std::string& path, config::Errors& errors);
std::optional<DaemonConfig> load_config_string(const std::string& text, const std::string& name,
                                               config::Errors& errors);

// Reads every key file the config names (as the daemon will at start) and
// records each problem as "<config file>: peer 'x': <reason>" (or
// "<config file>: private_key_file: <reason>").
void check_key_files(const DaemonConfig& config, config::Errors& errors);

}  // namespace segbridge::daemon
