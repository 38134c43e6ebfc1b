#pragma once
// What `segbridgectl status` shows: a snapshot of the daemon, rendered as
// JSON (the contract other tools read, see docs/segbridged.conf.md) or as a
// table for people.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace segbridge::daemon {

struct PeerStatus {
  std::string name;
  std::string tap;
  std::string state;     // "established", "handshaking", "idle", ...
  std::string endpoint;  // "" if unknown
  std::optional<double> last_handshake_age_s;
  std::uint64_t rx_bytes = 0, tx_bytes = 0, rx_frames = 0, tx_frames = 0;
  std::uint64_t fragments_tx = 0, fragments_rx = 0, reassembled = 0;
  // Frames the RX thread sent right after writing into the tap (replies; TxPath::forward_replies).
  std::uint64_t replies_inline = 0;
  std::map<std::string, std::uint64_t> drops;  // reason → count
  std::vector<std::string> macs;               // learned behind this peer's tap
};

struct DaemonStatus {
  std::string name;
  std::string role;
  std::string bridge;
  std::map<std::string, std::uint64_t> drops;  // not attributable to a peer (unknown sender, ...)
  std::vector<PeerStatus> peers;
};

std::string to_json(const DaemonStatus& status);
std::string to_table(const DaemonStatus& status);

}  // namespace segbridge::daemon
