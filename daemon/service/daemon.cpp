#include "daemon.hpp"

#include <boost/asio/post.hpp>
#include <chrono>
#include <csignal>
#include <set>

#include "core_endpoint.hpp"
#include "key_file.hpp"
#include "os/privileges.hpp"
#include "segbridge/core/aead.hpp"
#include "segbridge/core/psk_handshake.hpp"
#include "segbridge/crypto/key_file.hpp"
#include "segbridge/crypto/noise_ik_handshaker.hpp"
#include "segbridge/log.hpp"

namespace segbridge::daemon {
namespace {

using Clock = std::chrono::steady_clock;

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::uint64_t wall_clock_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

// The core's view of a configured peer: credentials, endpoint, timers.
core::PeerConfig to_core_peer(const DaemonConfig& daemon, const PeerConfig& peer) {
  core::PeerConfig c;
  c.name = peer.name;
  c.credentials.name = peer.name;  // PSK mode: the name the peer's daemon sends
  std::string error;
  if (daemon.handshake == Handshake::noise_ik) {
    auto pub = peer.public_key ? crypto::public_key_from_base64(*peer.public_key) : std::nullopt;
    if (!pub) throw std::runtime_error("peer '" + peer.name + "': no valid public_key");
    c.credentials.public_key = core::SecretKey(pub->data());
  }
  // PSK mode: the key; Noise IK: optional, mixed in as psk2.
  if (daemon.handshake == Handshake::psk || !peer.psk_file.empty()) {
    auto key = read_key_file(peer.psk_file, error);
    if (!key) throw std::runtime_error("peer '" + peer.name + "': " + error);
    c.credentials.psk = *key;
  }
  if (peer.endpoint) {
    std::string err;
    auto ep = resolve(*peer.endpoint, AF_UNSPEC, err);
    if (!ep) throw std::runtime_error("peer '" + peer.name + "': " + err);
    c.endpoint = to_core(*ep);
  }
  c.keepalive = std::chrono::seconds(peer.keepalive_s);
  if (daemon.role == Role::spoke) {
    // A spoke keeps its hub session up (retries forever) and keeps its NAT
    // mapping open with keepalives even when idle.
    c.persistent = true;
    c.persistent_keepalive = std::chrono::seconds(peer.keepalive_s);
  } else {
    c.persistent = peer.endpoint.has_value();
  }
  return c;
}

std::unique_ptr<core::Handshaker> make_handshaker(const DaemonConfig& c) {
  if (c.handshake == Handshake::psk) {
    log::notice("handshake: legacy PSK mode (docs/SECURITY.md: prefer Noise IK with private_key_file)");
    return std::make_unique<core::PskHandshaker>(c.name, core::locally_available_aeads(), wall_clock_ns);
  }
  // The private key goes straight into locked memory; it is never re-read.
  crypto::SecretKey key = crypto::load_key_file(c.private_key_file, "private key", crypto::KeyFilePolicy{::geteuid()});
  auto h = std::make_unique<crypto::NoiseIkHandshaker>(std::move(key));
  log::notice("handshake: Noise IK, public key " + crypto::key_to_base64(h->public_key().data()));
  return h;
}

std::unique_ptr<UdpSocket> open_socket(const DaemonConfig& c) {
  if (c.listen) {
    std::string err;
    auto local = resolve(*c.listen, AF_UNSPEC, err);
    if (!local) throw std::runtime_error("listen: " + err);
    return std::make_unique<UdpSocket>(UdpSocket::open(*local));
  }
  // A spoke without 'listen': an ephemeral port of the hub's family.
  for (const auto& p : c.peers) {
    if (!p.endpoint) continue;
    std::string err;
    auto remote = resolve(*p.endpoint, AF_UNSPEC, err);
    if (!remote) throw std::runtime_error("peer '" + p.name + "': " + err);
    return std::make_unique<UdpSocket>(UdpSocket::open_for(*remote));
  }
  throw std::runtime_error("no 'listen' and no peer endpoint: nothing to bind");
}

}  // namespace

Daemon::Daemon(DaemonConfig config, bool debug)
    : config_(std::move(config)),
      debug_(debug),
      signals_(io_, SIGTERM, SIGINT, SIGHUP),
      timer_(io_),
      housekeeping_timer_(io_),
      bridge_(config_.bridge) {
  try {
    bridge_.setup(config_.create_bridge, config_.bridge_ports);
    socket_ = open_socket(config_);
    core::DeviceConfig dc;
    dc.path_mtu = config_.path_mtu;
    dc.rekey_after_time = std::chrono::seconds(config_.rekey_after_time_s);
    device_ = std::make_unique<core::Device>(dc, make_handshaker(config_));
    control_out_ = std::make_unique<core::DatagramBatch>(64, device_->max_datagram_size());
    control_send_ = std::make_unique<SendBatch>(64);
    tx_ = std::make_unique<TxPath>(*device_, *socket_, [this] { request_attention(); });
    tx_->set_path_mtu(config_.path_mtu);
    RxHooks hooks;
    hooks.handshake = [this](const std::uint8_t* d, std::size_t n, const core::Endpoint& from) {
      queue_handshake(d, n, from);
    };
    hooks.attention = [this] { request_attention(); };
    hooks.hold_replies = [this] { tx_->hold_replies(); };
    hooks.mute_tap = [this](PeerPort& port) { tx_->mute(port); };
    hooks.tap_written = [this](PeerPort& port) { tx_->forward_replies(port); };
    hooks.release_replies = [this] { tx_->release_replies(); };
    rx_ = std::make_unique<RxPath>(*device_, *socket_, ports_, std::move(hooks));
    for (const auto& p : config_.peers) start_peer(p);
    control_ = std::make_unique<ControlServer>(io_, config_.control_socket,
                                               [this](const std::string& r) { return handle_request(r); });
    // Everything that needs root exists now (bridge, taps, socket, control socket).
    if (!config_.user.empty()) {
      os::drop_privileges({config_.user, config_.group, config_.keep_capabilities});
      log::notice("dropped privileges: running as " + config_.user + ", capabilities kept: " +
                  (config_.keep_capabilities.empty() ? std::string("none") : join(config_.keep_capabilities)));
    } else {
      log::warning("running as root: set [daemon] user (e.g. \"nobody\") to drop privileges after start-up");
    }
  } catch (...) {
    tx_.reset();
    rx_.reset();
    by_name_.clear();
    ports_.publish(std::make_shared<const PortTable>());
    bridge_.teardown(config_.remove_bridge_on_exit);
    throw;
  }
  log::notice(std::string("segbridged ") + to_string(config_.role) + " '" + config_.name + "' listening on " +
              socket_->local_endpoint().to_string() + ", bridge " + config_.bridge + ", " +
              std::to_string(config_.peers.size()) + " peer(s), path MTU " + std::to_string(config_.path_mtu));
}

Daemon::~Daemon() {
  if (tx_) tx_->stop();
  if (rx_) rx_->stop();
}

int Daemon::run() {
  std::function<void(const boost::system::error_code&, int)> on_signal;
  on_signal = [this, &on_signal](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      reload();
      signals_.async_wait(on_signal);
      return;
    }
    log::notice(std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + ", shutting down");
    shutdown();
  };
  signals_.async_wait(on_signal);
  tx_->start();
  rx_->start();
  run_timers();
  housekeeping();
  io_.run();
  tx_->stop();
  rx_->stop();
  // Taps go (the TX/RX threads no longer hold them), then the bridge if ours.
  ports_.publish(std::make_shared<const PortTable>());
  for (const auto& [name, port] : by_name_) device_->remove_peer(port->peer->id());
  by_name_.clear();
  bridge_.teardown(config_.remove_bridge_on_exit);
  log::notice("stopped");
  return 0;
}

void Daemon::shutdown() {
  stopping_ = true;
  boost::system::error_code ec;
  signals_.cancel(ec);
  timer_.cancel();
  housekeeping_timer_.cancel();
  control_.reset();
  io_.stop();
}

void Daemon::start_peer(const PeerConfig& peer) {
  core::PeerConfig cp = to_core_peer(config_, peer);
  bool offload = false;
  TapDevice tap = bridge_.add_tap(peer.tap_name(), config_.tap_offload, &offload);
  std::string error;
  auto core_peer = device_->add_peer(cp, &error);
  if (!core_peer) {
    bridge_.remove_tap(peer.tap_name());
    throw std::runtime_error("peer '" + peer.name + "': " + error);
  }
  auto port = std::make_shared<PeerPort>(core_peer, std::move(tap), peer.filter);
  port->vnet_header = config_.tap_offload;
  port->tx_coalesce = config_.tx_coalesce;
  by_name_[peer.name] = port;
  peer_configs_[peer.name] = peer;
  publish_ports();
  tx_->add_port(port);
  log::info("peer " + peer.name + ": tap " + peer.tap_name() +
            (cp.endpoint ? ", endpoint " + cp.endpoint->to_string() : ", endpoint learned when it connects"));
}

void Daemon::stop_peer(const std::string& name) {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return;
  auto port = it->second;
  by_name_.erase(it);
  peer_configs_.erase(name);
  publish_ports();
  tx_->remove_port(port->peer->id());
  device_->remove_peer(port->peer->id());
  bridge_.remove_tap(port->tap.name());
  log::info("peer " + name + " removed");
}

void Daemon::publish_ports() {
  auto table = std::make_shared<PortTable>();
  for (const auto& [name, port] : by_name_) (*table)[port->peer->id()] = port;
  ports_.publish(std::move(table));
}

void Daemon::reload() {
  log::notice("SIGHUP: reloading " + config_.file);
  config::Errors errors;
  auto next = load_config_file(config_.file, errors);
  if (next) check_key_files(*next, errors);
  if (!next || !errors.empty()) {
    for (const auto& m : errors.messages()) log::error(m);
    log::error("reload: configuration has errors; keeping the running one");
    return;
  }
  // Settings that need a restart (sockets, bridge identity) are reported, not applied.
  auto same_spec = [](const std::optional<EndpointSpec>& a, const std::optional<EndpointSpec>& b) {
    return (a ? a->text : "") == (b ? b->text : "");
  };
  if (next->name != config_.name || next->role != config_.role || !same_spec(next->listen, config_.listen) ||
      next->bridge != config_.bridge || next->control_socket != config_.control_socket ||
      next->tap_offload != config_.tap_offload || next->tx_coalesce != config_.tx_coalesce ||
      next->user != config_.user || next->group != config_.group) {
    log::warning(
        "reload: name, role, listen, bridge, control_socket, tap_offload, tx_coalesce, user and group changes take "
        "effect after a "
        "restart");
  }
  if (next->path_mtu != config_.path_mtu) {
    device_->set_path_mtu(next->path_mtu);
    tx_->set_path_mtu(next->path_mtu);
    log::info("path MTU now " + std::to_string(next->path_mtu));
  }
  if (auto lvl = log::parse_level(next->log_level); lvl && !debug_ && next->log_level != config_.log_level) {
    log::Options lo;
    lo.ident = "segbridged";
    lo.min_level = *lvl;
    lo.to_syslog = config_.syslog;
    log::configure(lo);
  }
  try {
    bridge_.add_ports(next->bridge_ports);
  } catch (const std::exception& e) {
    log::error(std::string("reload: bridge ports: ") + e.what());
  }
  std::set<std::string> wanted;
  for (const auto& p : next->peers) wanted.insert(p.name);
  std::vector<std::string> gone;
  for (const auto& [name, cfg] : peer_configs_) {
    if (!wanted.count(name)) gone.push_back(name);
  }
  for (const auto& name : gone) stop_peer(name);
  for (const auto& p : next->peers) {
    auto old = peer_configs_.find(p.name);
    if (old != peer_configs_.end() && old->second.same_as(p)) continue;
    if (old != peer_configs_.end()) {
      // Only the frame filters changed: apply them in place, keeping the
      // peer's tap and session (and its traffic) untouched.
      PeerConfig with_new_filter = old->second;
      with_new_filter.filter = p.filter;
      if (with_new_filter.same_as(p)) {
        by_name_.at(p.name)->filter.update(p.filter);
        old->second = p;
        log::info("peer " + p.name + ": frame filters updated");
        continue;
      }
      stop_peer(p.name);
    }
    try {
      start_peer(p);
    } catch (const std::exception& e) {
      log::error(std::string("reload: ") + e.what() +
                 (config_.user.empty() ? ""
                                       : " (segbridged runs as '" + config_.user +
                                             "': new taps need /dev/net/tun accessible to it; else restart)"));
    }
  }
  // Keep the daemon-wide settings that can change at run time.
  DaemonConfig kept = config_;
  kept.path_mtu = next->path_mtu;
  kept.log_level = next->log_level;
  kept.bridge_ports = next->bridge_ports;
  kept.psk_file = next->psk_file;
  kept.remove_bridge_on_exit = next->remove_bridge_on_exit;
  kept.peers = next->peers;
  config_ = std::move(kept);
  log::notice("reload done: " + std::to_string(by_name_.size()) + " peer(s)");
  run_timers();
}

void Daemon::request_attention() {
  if (attention_pending_.exchange(true, std::memory_order_acq_rel)) return;
  boost::asio::post(io_, [this] {
    attention_pending_.store(false, std::memory_order_release);
    run_timers();
  });
}

void Daemon::queue_handshake(const std::uint8_t* data, std::size_t size, const core::Endpoint& from) {
  // Handshakes are small (<= 148 B); anything bigger is not one.
  constexpr std::size_t kMax = 256;
  if (size > kMax) return;
  if (queued_handshakes_.fetch_add(1, std::memory_order_acq_rel) >= kMaxQueuedHandshakes) {
    queued_handshakes_.fetch_sub(1, std::memory_order_acq_rel);
    handshake_queue_full_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  std::array<std::uint8_t, kMax> copy;
  std::copy(data, data + size, copy.begin());
  boost::asio::post(io_, [this, copy, size, from] {
    int queued = queued_handshakes_.fetch_sub(1, std::memory_order_acq_rel);
    if (stopping_) return;
    auto r = device_->on_handshake(core::ConstBytes(copy.data(), size), from, Clock::now(), *control_out_,
                                   queued >= kUnderLoadHandshakes);
    send_control_batch();
    if (r.drop == core::DropReason::none && r.peer) {
      log::debug("handshake with " + r.peer->name() + " from " + from.to_string());
    } else if (r.drop != core::DropReason::none) {
      log::debug(std::string("handshake from ") + from.to_string() + " dropped: " + core::to_string(r.drop));
    }
    if (r.control_attention) run_timers();
  });
}

void Daemon::send_control_batch() {
  if (control_out_->empty()) return;
  for (const auto& d : *control_out_) control_send_->add(d.data, d.size, from_core(d.to));
  SendResult r = socket_->send(*control_send_);
  if (r.failed) control_send_failed_.fetch_add(r.failed, std::memory_order_relaxed);
  control_send_->clear();
  control_out_->clear();
}

void Daemon::run_timers() {
  if (stopping_) return;
  device_->on_timer(Clock::now(), *control_out_);
  send_control_batch();
  schedule_timer();
}

void Daemon::schedule_timer() {
  auto now = Clock::now();
  auto deadline = device_->next_deadline(now);
  // Never sleep longer than a second: cheap, and bounds any missed wakeup.
  if (deadline > now + std::chrono::seconds(1)) deadline = now + std::chrono::seconds(1);
  timer_.expires_at(deadline);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) run_timers();
  });
}

void Daemon::housekeeping() {
  for (auto& [name, port] : by_name_) {
    auto state = port->peer->state();
    if (state != port->logged_state) {
      if (state == core::PeerState::established) {
        log::notice("peer " + name + ": session established with " + port->peer->endpoint().to_string());
      } else if (port->logged_state == core::PeerState::established) {
        log::notice(std::string("peer ") + name + ": session lost (" + core::to_string(state) + ")");
      }
      port->logged_state = state;
    }
  }
  housekeeping_timer_.expires_after(std::chrono::seconds(1));
  housekeeping_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) housekeeping();
  });
}

DaemonStatus Daemon::status() {
  DaemonStatus s;
  s.name = config_.name;
  s.role = to_string(config_.role);
  s.bridge = config_.bridge;
  std::multimap<std::string, std::string> macs_by_port;
  try {
    for (const auto& e : bridge_.learned_fdb()) macs_by_port.emplace(e.port_name, e.mac.to_string());
  } catch (const std::exception& e) {
    log::warning(std::string("status: reading the bridge FDB: ") + e.what());
  }
  auto now = Clock::now();
  auto add_drops = [](std::map<std::string, std::uint64_t>& out, const core::CountersSnapshot& snap) {
    for (std::size_t i = 1; i < core::kDropReasonCount; ++i) {
      if (snap.drops[i]) out[core::to_string(static_cast<core::DropReason>(i))] += snap.drops[i];
    }
  };
  for (const auto& [name, port] : by_name_) {
    PeerStatus p;
    p.name = name;
    p.tap = port->tap.name();
    p.state = core::to_string(port->peer->state());
    auto ep = port->peer->endpoint();
    if (!ep.empty()) p.endpoint = ep.to_string();
    if (auto hs = port->peer->last_handshake()) {
      p.last_handshake_age_s = std::chrono::duration<double>(now - *hs).count();
    }
    auto snap = port->peer->counters().snapshot();
    p.rx_bytes = snap[core::Counter::rx_bytes];
    p.tx_bytes = snap[core::Counter::tx_bytes];
    p.rx_frames = snap[core::Counter::rx_frames];
    p.tx_frames = snap[core::Counter::tx_frames];
    p.fragments_tx = snap[core::Counter::tx_fragments];
    p.fragments_rx = snap[core::Counter::rx_fragments];
    p.reassembled = snap[core::Counter::reassembled];
    p.replies_inline = port->replies_inline.load(std::memory_order_relaxed);
    add_drops(p.drops, snap);
    if (auto n = port->tap_write_failed.load(std::memory_order_relaxed)) p.drops["tap_write_failed"] = n;
    if (auto n = port->udp_send_failed.load(std::memory_order_relaxed)) p.drops["udp_send_failed"] = n;
    if (auto n = port->offload_malformed.load(std::memory_order_relaxed)) p.drops["offload_malformed"] = n;
    const core::FilterCounters filtered = port->filter.counters();
    for (std::size_t i = 0; i < core::kFilterRuleCount; ++i) {
      if (filtered.dropped[i])
        p.drops[std::string(core::filter_rule_name(static_cast<core::FilterRule>(i)))] = filtered.dropped[i];
    }
    auto range = macs_by_port.equal_range(p.tap);
    for (auto it = range.first; it != range.second; ++it) p.macs.push_back(it->second);
    s.peers.push_back(std::move(p));
  }
  add_drops(s.drops, device_->counters().snapshot());
  if (auto n = rx_->malformed()) s.drops["malformed"] += n;
  if (auto n = handshake_queue_full_.load(std::memory_order_relaxed)) s.drops["handshake_queue_full"] = n;
  if (auto n = control_send_failed_.load(std::memory_order_relaxed)) s.drops["udp_send_failed"] = n;
  return s;
}

std::string Daemon::handle_request(const std::string& request) {
  if (request == "status") return to_table(status());
  if (request == "status json") return to_json(status());
  return "error: unknown request '" + request + "' (expected: status, status json)\n";
}

}  // namespace segbridge::daemon
