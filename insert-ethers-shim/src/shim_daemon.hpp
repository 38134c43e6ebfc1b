#pragma once
// The running shim: one thread, one poll() loop over the capture fds, child
// pipes and a signalfd. Per wake-up it parses every queued frame, commits all
// resulting ledger changes in one transaction, and only then announces the
// new MACs — so what is announced is always already durable, and a burst of
// other clients' DHCP costs one fsync per batch, not per packet.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bridge_view.hpp"
#include "capture.hpp"
#include "dhcp_packet.hpp"
#include "feeders.hpp"
#include "ledger.hpp"
#include "policy.hpp"
#include "shim_config.hpp"

namespace segbridge::shim {

std::int64_t wall_ms();

class ShimDaemon {
 public:
  explicit ShimDaemon(ShimConfig config);
  ~ShimDaemon();
  // Runs until SIGTERM/SIGINT. Returns the process exit code.
  int run();

 private:
  struct CaptureSlot {
    std::unique_ptr<Capture> capture;
    bool is_bridge = false;
    bool announce_local = false;
    std::optional<bool> last_logged_announce_local;
    std::int64_t next_retry_ms = 0;
    bool failure_logged = false;
  };
  struct Sighting {
    DhcpRequest request;
    std::size_t slot = 0;
    std::int64_t captured_ms = 0;
  };
  struct Schedule {
    std::int64_t due_ms = 0;
    std::int64_t first_captured_ms = 0;  // for the latency log; 0: unknown
    bool in_flight = false;
    std::int64_t failures = 0;  // consecutive failed deliveries: they back off too
  };
  enum class ChildKind { registered_check, exec_feed };
  struct Child {
    ChildKind kind;
    MacAddress mac;
    ChildProcess process;
    bool eof = false;
  };

  void setup_signals();
  void open_captures(std::int64_t now);
  void check_topology(std::int64_t now);
  void on_frame(std::size_t slot, const std::uint8_t* data, std::size_t caplen, std::int64_t ts_us);
  void process_sightings(std::int64_t now);
  void handle_sighting(const Sighting& s, std::int64_t now, std::vector<std::pair<MacAddress, std::int64_t>>& fresh);
  std::optional<std::string> ignore_reason(const MacAddress& mac, const Attribution& att, bool announce_local);
  void run_announcements(std::int64_t now);
  bool insert_ethers_running();
  std::int64_t backoff_ms(std::int64_t announce_count) const;
  void after_announce(const MacAddress& mac, std::int64_t now);
  void sync_schedule(std::int64_t now);
  void start_registered_check(std::int64_t now);
  void finish_registered_check(int status, const std::string& output, std::int64_t now);
  void service_children(std::int64_t now);
  void flush_counters(std::int64_t now);
  void flush_touches(std::int64_t now);
  std::map<std::string, std::uint64_t> all_counters();
  std::int64_t next_wakeup(std::int64_t now);

  ShimConfig config_;
  Ledger ledger_;
  Guards guards_;
  BridgeView bridges_;
  std::unique_ptr<Feeder> feeder_;
  std::vector<CaptureSlot> slots_;
  ParseCounters parse_counters_;
  std::uint64_t last_invalid_logged_ = 0;
  std::map<std::string, std::uint64_t> counters_;
  std::vector<Sighting> sightings_;
  std::size_t sighting_count_ = 0;
  std::map<MacAddress, Schedule> schedule_;
  // Repeat sightings of MACs whose state they do not change (last_seen,
  // count, latest options), written once a second in one transaction: a
  // burst of known clients must not put an fsync in front of every new MAC.
  struct Touch {
    LedgerEntry latest;
    std::int64_t sightings = 0;
  };
  std::map<MacAddress, Touch> touches_;
  std::int64_t next_touch_flush_ms_ = 0;
  std::map<pid_t, Child> children_;
  bool check_in_flight_ = false;
  std::int64_t next_check_ms_ = 0;
  std::int64_t next_topology_ms_ = 0;
  std::int64_t next_counters_ms_ = 0;
  std::int64_t next_sync_ms_ = 0;
  std::optional<bool> lock_present_logged_;
  int signal_fd_ = -1;
  bool stop_ = false;
};

}  // namespace segbridge::shim
