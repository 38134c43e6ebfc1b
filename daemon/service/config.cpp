#include "config.hpp"

#include <cctype>
#include <set>

#include "key_file.hpp"
#include "os/privileges.hpp"
#include "segbridge/crypto/key_file.hpp"
#include "segbridge/log.hpp"
#include "segbridge/mac_address.hpp"
#include "segbridge/tap_device.hpp"

namespace segbridge::daemon {
namespace {

std::optional<EndpointSpec> read_endpoint(config::Section& s, const std::string& key) {
  auto text = s.get_string(key);
  if (!text) return std::nullopt;
  std::string error;
  auto spec = parse_endpoint(*text, error);
  if (!spec) s.error(key, error);
  return spec;
}

void read_daemon(config::Section& d, DaemonConfig& c) {
  if (auto name = d.require_string("name")) {
    // PSK initiations carry this name and the other side looks it up among its
    // [[peer]] names, so it must obey the same rule (else no handshake can match).
    if (!valid_peer_name(*name)) {
      d.error("name", "'" + *name +
                          "' must be 1-12 characters of a-z, 0-9 and '-' (not first): the other side's [[peer]] "
                          "name for this site");
    }
    c.name = *name;
  }
  c.role = d.get_choice("role", "hub", {"hub", "spoke"}) == "spoke" ? Role::spoke : Role::hub;
  c.listen = read_endpoint(d, "listen");
  c.bridge = d.get_string("bridge", c.bridge);
  if (!valid_interface_name(c.bridge)) d.error("bridge", "'" + c.bridge + "' is not a valid interface name");
  c.create_bridge = d.get_bool("create_bridge", c.create_bridge);
  c.remove_bridge_on_exit = d.get_bool("remove_bridge_on_exit", c.remove_bridge_on_exit);
  c.bridge_ports = d.get_string_array("bridge_ports");
  std::set<std::string> seen_ports;
  for (const auto& p : c.bridge_ports) {
    if (!valid_interface_name(p)) d.error("bridge_ports", "'" + p + "' is not a valid interface name");
    if (p.rfind("sb-", 0) == 0) d.error("bridge_ports", "'" + p + "': names starting with 'sb-' are the daemon's taps");
    if (p == c.bridge) d.error("bridge_ports", "'" + p + "' is the bridge itself");
    if (!seen_ports.insert(p).second) d.error("bridge_ports", "'" + p + "' is listed twice");
  }
  c.control_socket = d.get_string("control_socket", c.control_socket);
  if (c.control_socket.empty() || c.control_socket.size() >= 108) {
    d.error("control_socket", "must be a path of 1-107 characters (a unix socket path)");
  }
  c.path_mtu = static_cast<unsigned>(d.get_int("path_mtu", c.path_mtu, kMinPathMtu, kMaxPathMtu));
  c.tap_offload = d.get_bool("tap_offload", c.tap_offload);
  c.tx_coalesce = d.get_bool("tx_coalesce", c.tx_coalesce);
  c.psk_file = d.get_string("psk_file", "");
  c.private_key_file = d.get_string("private_key_file", "");
  const std::string handshake =
      d.get_choice("handshake", c.private_key_file.empty() ? "psk" : "noise-ik", {"noise-ik", "psk"});
  c.handshake = handshake == "psk" ? Handshake::psk : Handshake::noise_ik;
  if (c.handshake == Handshake::noise_ik && c.private_key_file.empty() && !d.has("private_key_file")) {
    d.error("handshake", "noise-ik needs 'private_key_file' (make one with: segbridged genkey > FILE)");
  }
  c.user = d.get_string("user", "");
  c.group = d.get_string("group", "");
  c.rekey_after_time_s = static_cast<unsigned>(d.get_int("rekey_after_time", c.rekey_after_time_s, 5, 120));
  if (d.has("keep_capabilities")) c.keep_capabilities = d.get_string_array("keep_capabilities");
  for (const auto& cap : c.keep_capabilities) {
    if (os::capability_from_name(cap) < 0) d.error("keep_capabilities", "'" + cap + "' is not a capability name");
  }
  if (!c.group.empty() && c.user.empty()) d.error("group", "'group' needs 'user'");
  c.log_level = d.get_string("log_level", c.log_level);
  if (!log::parse_level(c.log_level))
    d.error("log_level", "'" + c.log_level + "' is not one of: debug, info, notice, warning, error");
  c.syslog = d.get_bool("syslog", c.syslog);
  d.finish();
}

std::optional<std::uint16_t> parse_ethertype(const std::string& text) {
  static const std::pair<const char*, std::uint16_t> names[] = {{"ipv4", 0x0800}, {"arp", 0x0806},  {"ipv6", 0x86dd},
                                                                {"vlan", 0x8100}, {"qinq", 0x88a8}, {"llc", 0}};
  for (const auto& [name, value] : names)
    if (text == name) return value;
  if (text.size() < 3 || text.size() > 6 || text.rfind("0x", 0) != 0) return std::nullopt;
  unsigned long v = 0;
  for (std::size_t i = 2; i < text.size(); ++i) {
    const char ch = static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
    if (!std::isxdigit(static_cast<unsigned char>(ch))) return std::nullopt;
    v = v * 16 + static_cast<unsigned long>(std::isdigit(static_cast<unsigned char>(ch)) ? ch - '0' : ch - 'a' + 10);
  }
  if (v != 0 && v < 0x0600) return std::nullopt;  // 802.3 lengths are "llc"
  return static_cast<std::uint16_t>(v);
}

void read_filter(config::Section& p, Role role, core::FrameFilterConfig& f) {
  f.allow_dhcp_server = p.get_bool("allow_dhcp_server", role == Role::spoke);
  f.drop_syslog = p.get_bool("filter_syslog", role == Role::hub);
  for (const auto& text : p.get_string_array("allowed_source_macs")) {
    if (auto mac = MacAddress::parse(text)) {
      f.allowed_source_macs.push_back(*mac);
    } else {
      p.error("allowed_source_macs", "'" + text + "' is not a MAC address");
    }
  }
  for (const auto& text : p.get_string_array("allowed_ouis")) {
    // "52:54:00": the first three bytes of a MAC.
    if (auto mac = MacAddress::parse(text + ":00:00:00")) {
      f.allowed_ouis.push_back(mac->oui());
    } else {
      p.error("allowed_ouis", "'" + text + "' is not an OUI (three bytes, e.g. \"52:54:00\")");
    }
  }
  for (const auto& text : p.get_string_array("allowed_ethertypes")) {
    if (auto type = parse_ethertype(text)) {
      f.allowed_ethertypes.push_back(*type);
    } else {
      p.error("allowed_ethertypes",
              "'" + text + "' is not an EtherType (\"0x0800\" ... or ipv4, arp, ipv6, vlan, qinq, llc)");
    }
  }
}

PeerConfig read_peer(config::Section& p, const DaemonConfig& c) {
  PeerConfig peer;
  if (auto name = p.require_string("name")) {
    peer.name = *name;
    if (!valid_peer_name(peer.name)) {
      p.error("name",
              "'" + peer.name + "' must be 1-12 characters of a-z, 0-9 and '-' (not first); its tap is sb-<name>");
    }
  }
  peer.endpoint = read_endpoint(p, "endpoint");
  peer.psk_file = p.get_string("psk_file", c.psk_file);
  peer.keepalive_s = static_cast<unsigned>(p.get_int("keepalive", peer.keepalive_s, 1, 3600));
  peer.public_key = p.get_string("public_key");
  if (peer.public_key && !crypto::public_key_from_base64(*peer.public_key)) {
    p.error("public_key", "not a base64 32-byte public key (make one with: segbridged pubkey < PRIVATE_KEY_FILE)");
  }
  read_filter(p, c.role, peer.filter);
  return peer;
}

std::optional<DaemonConfig> load(const std::optional<toml::table>& table, const std::string& file,
                                 config::Errors& errors) {
  if (!table) return std::nullopt;
  DaemonConfig c;
  c.file = file;
  config::Section root(*table, "", file, errors);
  if (auto d = root.get_table("daemon")) {
    read_daemon(*d, c);
  } else if (!root.has("daemon")) {
    errors.add(file, "missing [daemon] table");
  }
  std::set<std::string> names;
  for (auto& p : root.get_array_of_tables("peer")) {
    PeerConfig peer = read_peer(p, c);
    if (!peer.name.empty() && !names.insert(peer.name).second) {
      p.error("name", "peer '" + peer.name + "' is defined twice");
    }
    if (!peer.name.empty() && peer.name == c.name) {
      p.error("name", "peer '" + peer.name + "' has this daemon's own name");
    }
    if (c.role == Role::spoke && !peer.endpoint && !p.has("endpoint")) {
      p.error("endpoint", "a spoke's peer (the hub) needs an endpoint");
    }
    if (c.handshake == Handshake::psk && peer.psk_file.empty() && !p.has("psk_file")) {
      p.error("psk_file", "no psk_file here or in [daemon] (or use Noise IK: private_key_file + public_key)");
    }
    if (c.handshake == Handshake::noise_ik && !peer.public_key && !p.has("public_key")) {
      p.error("public_key", "Noise IK needs this peer's public key (its `segbridged pubkey` output)");
    }
    p.finish();
    c.peers.push_back(std::move(peer));
  }
  if (c.role == Role::spoke && c.peers.size() > 1) {
    errors.add(file, table->source(),
               "a spoke has exactly one [[peer]] (the hub), found " + std::to_string(c.peers.size()));
  }
  if (c.role == Role::spoke && c.peers.empty()) errors.add(file, "a spoke needs one [[peer]]: the hub");
  const toml::table* daemon_table = (*table)["daemon"].as_table();
  if (c.role == Role::hub && !c.listen && daemon_table && !daemon_table->contains("listen")) {
    errors.add(file, (*table)["daemon"].node()->source(), "a hub needs 'daemon.listen' (e.g. \"0.0.0.0:7440\")");
  }
  root.finish();
  if (!errors.empty()) return std::nullopt;
  return c;
}

}  // namespace

const char* to_string(Role role) {
  return role == Role::hub ? "hub" : "spoke";
}

const char* to_string(Handshake handshake) {
  return handshake == Handshake::psk ? "psk" : "noise-ik";
}

bool valid_peer_name(const std::string& name) {
  if (name.empty() || name.size() > kMaxPeerNameLength || name.front() == '-') return false;
  for (char ch : name) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-')) return false;
  }
  return true;
}

bool PeerConfig::same_as(const PeerConfig& o) const {
  auto ep = [](const std::optional<EndpointSpec>& e) { return e ? e->text : std::string(); };
  return name == o.name && ep(endpoint) == ep(o.endpoint) && psk_file == o.psk_file && keepalive_s == o.keepalive_s &&
         public_key == o.public_key && filter.allow_dhcp_server == o.filter.allow_dhcp_server &&
         filter.drop_syslog == o.filter.drop_syslog && filter.allowed_source_macs == o.filter.allowed_source_macs &&
         filter.allowed_ouis == o.filter.allowed_ouis && filter.allowed_ethertypes == o.filter.allowed_ethertypes;
}

const PeerConfig* DaemonConfig::find_peer(const std::string& peer_name) const {
  for (const auto& p : peers)
    if (p.name == peer_name) return &p;
  return nullptr;
}

std::optional<DaemonConfig> load_config_file(const std::string& path, config::Errors& errors) {
  return load(config::parse_file(path, errors), path, errors);
}

std::optional<DaemonConfig> load_config_string(const std::string& text, const std::string& name,
                                               config::Errors& errors) {
  return load(config::parse_string(text, name, errors), name, errors);
}

void check_key_files(const DaemonConfig& c, config::Errors& errors) {
  std::set<std::string> checked;
  if (c.handshake == Handshake::noise_ik && !c.private_key_file.empty()) {
    std::string error;
    if (!read_key_file(c.private_key_file, error)) errors.add(c.file, "private_key_file: " + error);
  }
  for (const auto& p : c.peers) {
    if (p.psk_file.empty() || !checked.insert(p.psk_file).second) continue;
    std::string error;
    if (!read_key_file(p.psk_file, error)) errors.add(c.file, "peer '" + p.name + "': " + error);
  }
}

}  // namespace segbridge::daemon
