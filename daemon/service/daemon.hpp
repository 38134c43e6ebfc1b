#pragma once
// segbridged's runtime: sets up the bridge, taps and the UDP socket, drives
// the protocol core (segbridge::core::Device) from three threads and serves
// the control socket.
//
//   control thread (run()'s caller): signals, SIGHUP reloads, the core's
//       timers and handshakes, the control socket, bridge/netlink work
//   TX thread (TxPath): taps → core.send_frame → sendmmsg
//   RX thread (RxPath): recvmmsg → core.on_data → taps
//
// Peers are published to the data path as an immutable PortTable snapshot,
// so adding or removing one (SIGHUP) never stops the others' traffic.
#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <memory>
#include <string>

#include "config.hpp"
#include "control_server.hpp"
#include "os/bridge_manager.hpp"
#include "os/udp_socket.hpp"
#include "peer_port.hpp"
#include "rx_path.hpp"
#include "segbridge/core/device.hpp"
#include "status.hpp"
#include "tx_path.hpp"

namespace segbridge::daemon {

class Daemon {
 public:
  // Builds everything (bridge, taps, socket, control socket); throws with a
  // message naming what failed. Cleans up what it made if it throws.
  Daemon(DaemonConfig config, bool debug);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Runs until SIGTERM/SIGINT; returns the process exit code.
  int run();

  DaemonStatus status();

 private:
  static constexpr int kMaxQueuedHandshakes = 1024;
  static constexpr int kUnderLoadHandshakes = 128;  // wireguard-go: queue/8

  void start_peer(const PeerConfig& peer);
  void stop_peer(const std::string& name);
  void publish_ports();
  void reload();
  void shutdown();
  void drop_privileges();

  void schedule_timer();
  void run_timers();
  void request_attention();                                                                      // any thread
  void queue_handshake(const std::uint8_t* data, std::size_t size, const core::Endpoint& from);  // RX thread
  void send_control_batch();
  void housekeeping();

  std::string handle_request(const std::string& request);

  DaemonConfig config_;
  bool debug_;
  boost::asio::io_context io_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer timer_;
  boost::asio::steady_timer housekeeping_timer_;
  BridgeManager bridge_;
  std::unique_ptr<UdpSocket> socket_;
  std::unique_ptr<core::Device> device_;
  PortDirectory ports_;
  std::map<std::string, std::shared_ptr<PeerPort>> by_name_;  // control thread
  std::map<std::string, PeerConfig> peer_configs_;            // control thread
  std::unique_ptr<TxPath> tx_;
  std::unique_ptr<RxPath> rx_;
  std::unique_ptr<ControlServer> control_;
  std::unique_ptr<core::DatagramBatch> control_out_;
  std::unique_ptr<SendBatch> control_send_;
  std::atomic<bool> attention_pending_{false};
  std::atomic<int> queued_handshakes_{0};
  std::atomic<std::uint64_t> handshake_queue_full_{0};
  std::atomic<std::uint64_t> control_send_failed_{0};
  bool stopping_ = false;
};

}  // namespace segbridge::daemon
