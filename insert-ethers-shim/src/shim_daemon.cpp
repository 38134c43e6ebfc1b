#include "shim_daemon.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <sstream>
#include <system_error>

#include "segbridge/log.hpp"

namespace segbridge::shim {
namespace {

constexpr int kMaxFramesPerDispatch = 512;
constexpr std::size_t kMaxCheckOutput = 16u << 20;
constexpr std::int64_t kLockPollMs = 200;
constexpr std::int64_t kScheduleSyncMs = 2000;
constexpr std::int64_t kTouchFlushMs = 1000;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return s;
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("killed by signal ") + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

}  // namespace

std::int64_t wall_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

ShimDaemon::ShimDaemon(ShimConfig config)
    : config_(std::move(config)), ledger_(config_.ledger, Ledger::Mode::create), guards_(config_) {
  switch (config_.feeder) {
    case FeederKind::syslog:
      feeder_ = std::make_unique<SyslogFeeder>(config_.syslog_socket, config_.private_interface);
      break;
    case FeederKind::file:
      feeder_ = std::make_unique<FileFeeder>(config_.feed_file, config_.private_interface);
      break;
    case FeederKind::exec:
      feeder_ = std::make_unique<ExecFeeder>(
          config_.exec_command, config_.private_interface, config_.exec_timeout_s,
          [this](const MacAddress& mac, ChildProcess p) {
            children_[p.pid] = Child{ChildKind::exec_feed, mac, p, true};
          },
          [] { return wall_ms(); });
      break;
  }
  for (const auto& name : config_.interfaces) {
    CaptureOptions o;
    o.interface = name;
    o.buffer_bytes = static_cast<int>(config_.pcap_buffer_bytes);
    o.promiscuous = config_.promiscuous;
    CaptureSlot slot;
    slot.capture = std::make_unique<Capture>(o);
    slots_.push_back(std::move(slot));
  }
  // Whatever was pending when we last stopped is announced again.
  const std::int64_t now = wall_ms();
  for (const auto& e : ledger_.pending()) schedule_[e.mac] = Schedule{now, 0, false, 0};
}

ShimDaemon::~ShimDaemon() {
  if (signal_fd_ >= 0) ::close(signal_fd_);
  for (auto& [pid, child] : children_) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    if (child.process.stdout_fd >= 0) ::close(child.process.stdout_fd);
  }
}

void ShimDaemon::setup_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&set, s);
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
  signal_fd_ = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd_ < 0) throw std::system_error(errno, std::generic_category(), "signalfd");
  ::signal(SIGPIPE, SIG_IGN);
}

void ShimDaemon::open_captures(std::int64_t now) {
  for (auto& slot : slots_) {
    if (slot.capture->is_open() || now < slot.next_retry_ms) continue;
    std::string error;
    if (slot.capture->open(error)) {
      slot.is_bridge = bridges_.is_bridge(slot.capture->interface());
      if (slot.failure_logged) {
        log::notice("capturing on " + slot.capture->interface() + " again");
      } else {
        log::info("capturing DHCP requests on " + slot.capture->interface() +
                  (slot.is_bridge ? " (bridge: site from its FDB)" : " (not a bridge: site from the interface name)"));
      }
      slot.failure_logged = false;
      next_topology_ms_ = now;  // re-evaluate with the (new) bridge
    } else {
      slot.next_retry_ms = now + config_.interface_retry_s * 1000;
      if (!slot.failure_logged) {
        log::warning("cannot capture on " + slot.capture->interface() + ": " + error + "; retrying every " +
                     std::to_string(config_.interface_retry_s) + " s");
        slot.failure_logged = true;
      }
    }
  }
}

void ShimDaemon::check_topology(std::int64_t now) {
  next_topology_ms_ = now + config_.topology_check_interval_ms;
  for (auto& slot : slots_) {
    const std::string& iface = slot.capture->interface();
    auto ports = bridges_.ports(iface);
    slot.is_bridge = ports.has_value();
    TopologyDecision d = decide_topology(config_.announce_local, config_.private_interface, iface,
                                         ports.value_or(std::vector<std::string>{}), ports.has_value());
    slot.announce_local = d.announce_local;
    if (slot.last_logged_announce_local != d.announce_local) {
      log::notice("topology on " + iface + ": " + d.why);
      slot.last_logged_announce_local = d.announce_local;
    }
  }
}

void ShimDaemon::on_frame(std::size_t slot, const std::uint8_t* data, std::size_t caplen, std::int64_t ts_us) {
  if (sighting_count_ == sightings_.size()) sightings_.emplace_back();
  Sighting& s = sightings_[sighting_count_];
  DropReason reason{};
  if (!parse_dhcp_frame(data, caplen, s.request, reason)) {
    parse_counters_.count(reason);
    if (is_invalid(reason) && log::enabled(log::Level::debug)) {
      log::debug("dropped frame on " + slots_[slot].capture->interface() + ": " +
                 std::string(drop_reason_name(reason)));
    }
    return;
  }
  ++parse_counters_.accepted;
  if (!guards_.accepts_client(s.request)) return;
  s.slot = slot;
  s.captured_ms = ts_us / 1000;
  ++sighting_count_;
}

std::optional<std::string> ShimDaemon::ignore_reason(const MacAddress& mac, const Attribution& att,
                                                     bool announce_local) {
  if (auto r = guards_.filter(mac, att.site)) return r;
  if (!att.tunnel && !announce_local) {
    guards_.count(counter::local_not_announced);
    return std::string(att.port.empty() ? "unattributed" : "local");
  }
  return std::nullopt;
}

void ShimDaemon::handle_sighting(const Sighting& s, std::int64_t now,
                                 std::vector<std::pair<MacAddress, std::int64_t>>& fresh) {
  const DhcpRequest& req = s.request;
  const CaptureSlot& slot = slots_[s.slot];
  const std::string& iface = slot.capture->interface();
  std::string port = slot.is_bridge ? bridges_.port_of(iface, req.client_mac, now, s.captured_ms) : iface;
  if (port.empty()) ++counters_["fdb_miss"];
  Attribution att = attribute_port(port, config_.tunnel_port_prefix);

  LedgerEntry latest;
  latest.mac = req.client_mac;
  latest.first_seen_ms = latest.last_seen_ms = s.captured_ms;
  latest.seen_count = 1;
  latest.port = att.port;
  latest.site = att.port.empty() ? "" : att.site;
  latest.vendor_class = req.vendor_class;
  latest.arch = req.arch_name();
  latest.uuid = req.uuid_string();
  latest.hostname = req.hostname;

  auto existing = ledger_.find(req.client_mac);
  if (existing && existing->state != MacState::ignored) {
    Touch& t = touches_[req.client_mac];
    if (t.sightings == 0) {
      t.latest = latest;
    } else {
      t.latest.last_seen_ms = std::max(t.latest.last_seen_ms, latest.last_seen_ms);
      for (auto [dst, src] : {std::pair{&t.latest.port, &latest.port},
                              {&t.latest.site, &latest.site},
                              {&t.latest.vendor_class, &latest.vendor_class},
                              {&t.latest.arch, &latest.arch},
                              {&t.latest.uuid, &latest.uuid},
                              {&t.latest.hostname, &latest.hostname}}) {
        if (!src->empty()) *dst = *src;
      }
    }
    ++t.sightings;
    if (next_touch_flush_ms_ <= now) next_touch_flush_ms_ = now + kTouchFlushMs;
    return;
  }
  if (existing) {
    ledger_.record_sighting(latest);
    // Ignored MACs are re-judged on every sighting: the topology, the
    // node's port or the pending count may have changed since.
    auto reason = ignore_reason(req.client_mac, att, slot.announce_local);
    if (!reason && !guards_.pending_room(ledger_.pending_count())) reason = std::string("pending_cap");
    if (!reason) {
      ledger_.set_state(req.client_mac, MacState::discovered);
      fresh.emplace_back(req.client_mac, s.captured_ms);
      log::info("now announcing " + req.client_mac.to_string() + " (site " + att.site +
                ", was ignored: " + existing->ignore_reason + ")");
    } else if (*reason != existing->ignore_reason) {
      ledger_.set_state(req.client_mac, MacState::ignored, *reason);
    }
    return;
  }
  if (!guards_.admit_new_mac(now)) return;  // counted; not recorded, so a flood cannot grow the ledger
  auto reason = ignore_reason(req.client_mac, att, slot.announce_local);
  if (!reason && !guards_.pending_room(ledger_.pending_count())) reason = std::string("pending_cap");
  if (latest.site.empty()) latest.site = att.site;
  latest.state = reason ? MacState::ignored : MacState::discovered;
  latest.ignore_reason = reason.value_or("");
  ledger_.insert(latest);
  ++counters_["new_macs"];
  if (!reason) {
    fresh.emplace_back(req.client_mac, s.captured_ms);
    log::info("discovered " + req.client_mac.to_string() + " on " + iface + " port " +
              (att.port.empty() ? "?" : att.port) + " site " + att.site + " (" +
              std::string(message_kind_name(req.kind)) + ", " + req.vendor_class + ")");
  } else {
    log::info("recorded " + req.client_mac.to_string() + " site " + att.site + " as ignored: " + *reason);
  }
}

void ShimDaemon::process_sightings(std::int64_t now) {
  if (sighting_count_ == 0) return;
  std::vector<std::pair<MacAddress, std::int64_t>> fresh;
  try {
    ledger_.begin();
    for (std::size_t i = 0; i < sighting_count_; ++i) handle_sighting(sightings_[i], now, fresh);
    ledger_.commit();  // durable before anything below announces it
  } catch (const LedgerError& e) {
    ledger_.rollback();
    log::error("ledger write failed, " + std::to_string(sighting_count_) + " sighting(s) not recorded: " + e.what());
    ++counters_["ledger_errors"];
    fresh.clear();
  }
  sighting_count_ = 0;
  for (const auto& [mac, captured] : fresh) schedule_[mac] = Schedule{now, captured, false, 0};
}

bool ShimDaemon::insert_ethers_running() {
  if (config_.lock_file.empty()) return true;
  struct stat st {};
  const bool present = ::stat(config_.lock_file.c_str(), &st) == 0;
  if (lock_present_logged_ != present) {
    std::size_t pending = schedule_.size();
    if (present) {
      log::notice("insert-ethers is running (" + config_.lock_file + " exists): announcing " + std::to_string(pending) +
                  " pending MAC(s)");
    } else {
      log::notice("insert-ethers is not running (" + config_.lock_file +
                  " absent): new MACs stay pending until it starts");
    }
    lock_present_logged_ = present;
  }
  return present;
}

std::int64_t ShimDaemon::backoff_ms(std::int64_t announce_count) const {
  std::int64_t delay = config_.announce_backoff_initial_s * 1000;
  for (std::int64_t i = 1; i < announce_count && delay < config_.announce_backoff_max_s * 1000; ++i) delay *= 2;
  return std::min(delay, config_.announce_backoff_max_s * 1000);
}

void ShimDaemon::after_announce(const MacAddress& mac, std::int64_t now) {
  ledger_.mark_announced(mac, now);
  auto entry = ledger_.find(mac);
  auto it = schedule_.find(mac);
  if (it == schedule_.end()) return;
  if (!entry || !entry->pending() || config_.registered_check.empty()) {
    schedule_.erase(it);  // without a registered check, one announcement is final
    return;
  }
  it->second.in_flight = false;
  it->second.failures = 0;
  it->second.due_ms = now + backoff_ms(entry->announce_count);
  if (entry->announce_count == 1 && next_check_ms_ > now + 1000) next_check_ms_ = now + 1000;
}

void ShimDaemon::run_announcements(std::int64_t now) {
  bool any_due = false;
  for (const auto& [mac, s] : schedule_) {
    if (!s.in_flight && s.due_ms <= now) {
      any_due = true;
      break;
    }
  }
  if (!any_due || !insert_ethers_running()) return;
  for (auto it = schedule_.begin(); it != schedule_.end();) {
    Schedule& s = it->second;
    const MacAddress mac = it->first;
    if (s.in_flight || s.due_ms > now) {
      ++it;
      continue;
    }
    std::optional<LedgerEntry> entry;
    try {
      entry = ledger_.find(mac);
    } catch (const LedgerError& e) {
      log::error(std::string("ledger read failed: ") + e.what());
      s.due_ms = now + 1000;  // try again later, not in a tight loop
      return;
    }
    if (!entry || !entry->pending()) {  // forgotten or registered meanwhile (CLI)
      it = schedule_.erase(it);
      continue;
    }
    std::string error;
    FeedResult r = feeder_->announce(*entry, error);
    ++it;
    if (r == FeedResult::failed) {
      ++counters_["announce_failed"];
      s.due_ms = now + backoff_ms(entry->announce_count + ++s.failures);
      log::warning("announcing " + mac.to_string() + " failed: " + error);
      continue;
    }
    ++counters_["announced"];
    if (r == FeedResult::started) {
      s.in_flight = true;
      continue;
    }
    std::string latency;
    if (s.first_captured_ms > 0) {
      latency = ", " + std::to_string(now - s.first_captured_ms) + " ms after capture";
      s.first_captured_ms = 0;
    }
    log::info("announced " + mac.to_string() + " (site " + entry->site + ") via " + feeder_->name() + latency);
    try {
      after_announce(mac, now);
    } catch (const LedgerError& e) {
      log::error(std::string("ledger write failed: ") + e.what());
    }
  }
}

// The CLI (announce, forget) edits the ledger behind the daemon's back: pick
// up pending rows it does not know yet; rows no longer pending are dropped
// from the schedule when they come due.
void ShimDaemon::sync_schedule(std::int64_t now) {
  next_sync_ms_ = now + kScheduleSyncMs;
  try {
    for (const auto& e : ledger_.pending()) {
      if (schedule_.count(e.mac)) continue;
      const std::int64_t due = e.announce_count == 0 ? now : e.last_announce_ms + backoff_ms(e.announce_count);
      schedule_[e.mac] = Schedule{due, 0, false, 0};
    }
  } catch (const LedgerError& e) {
    log::error(std::string("ledger read failed: ") + e.what());
  }
}

void ShimDaemon::start_registered_check(std::int64_t now) {
  next_check_ms_ = now + config_.registered_check_interval_s * 1000;
  if (config_.registered_check.empty() || check_in_flight_ || schedule_.empty()) return;
  try {
    ChildProcess p = spawn_child({"/bin/sh", "-c", config_.registered_check}, {}, true,
                                 now + config_.registered_check_timeout_s * 1000);
    children_[p.pid] = Child{ChildKind::registered_check, MacAddress(), p, false};
    check_in_flight_ = true;
  } catch (const std::system_error& e) {
    log::warning(std::string("cannot run registered check: ") + e.what());
  }
}

void ShimDaemon::finish_registered_check(int status, const std::string& output, std::int64_t now) {
  check_in_flight_ = false;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    ++counters_["registered_check_failed"];
    log::warning("registered check `" + config_.registered_check + "` failed (" + describe_status(status) + ")");
    return;
  }
  const std::string text = lower(output);
  for (auto it = schedule_.begin(); it != schedule_.end();) {
    const std::string mac = it->first.to_string();
    if (text.find(mac) == std::string::npos) {
      ++it;
      continue;
    }
    try {
      ledger_.mark_registered(it->first, now);
      ++counters_["registered"];
      log::notice(mac + " is registered (found by `" + config_.registered_check + "`)");
      it = schedule_.erase(it);
    } catch (const LedgerError& e) {
      log::error(std::string("ledger write failed: ") + e.what());
      ++it;
    }
  }
}

void ShimDaemon::service_children(std::int64_t now) {
  for (auto& [pid, child] : children_) {
    if (child.eof || child.process.stdout_fd < 0) continue;
    char buf[65536];
    for (;;) {
      ssize_t n = ::read(child.process.stdout_fd, buf, sizeof buf);
      if (n > 0) {
        if (child.process.output.size() < kMaxCheckOutput) child.process.output.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n == 0 || (errno != EAGAIN && errno != EINTR)) child.eof = true;
      break;
    }
    if (child.eof) {
      ::close(child.process.stdout_fd);
      child.process.stdout_fd = -1;
    }
  }
  for (auto it = children_.begin(); it != children_.end();) {
    Child& child = it->second;
    int status = 0;
    pid_t r = ::waitpid(it->first, &status, WNOHANG);
    if (r == 0) {
      if (now > child.process.deadline_ms) {
        log::warning(std::string(child.kind == ChildKind::exec_feed ? "exec feeder" : "registered check") + " (pid " +
                     std::to_string(it->first) + ") timed out; killing it");
        ::kill(it->first, SIGKILL);
        child.process.deadline_ms = now + 60000;
      }
      ++it;
      continue;
    }
    if (r < 0 && errno == EINTR) {
      ++it;
      continue;
    }
    if (!child.eof && child.process.stdout_fd >= 0) {  // drain what is left
      char buf[65536];
      ssize_t n;
      while ((n = ::read(child.process.stdout_fd, buf, sizeof buf)) > 0) {
        if (child.process.output.size() < kMaxCheckOutput) child.process.output.append(buf, static_cast<size_t>(n));
      }
      ::close(child.process.stdout_fd);
    }
    if (child.kind == ChildKind::registered_check) {
      finish_registered_check(status, child.process.output, now);
    } else {
      auto s = schedule_.find(child.mac);
      const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
      if (ok) {
        log::info("announced " + child.mac.to_string() + " via exec");
        try {
          after_announce(child.mac, now);
        } catch (const LedgerError& e) {
          log::error(std::string("ledger write failed: ") + e.what());
        }
      } else {
        ++counters_["announce_failed"];
        log::warning("exec feeder for " + child.mac.to_string() + " failed (" + describe_status(status) + ")");
        if (s != schedule_.end()) {
          s->second.in_flight = false;
          auto e = ledger_.find(child.mac);
          s->second.due_ms = now + backoff_ms((e ? e->announce_count : 0) + ++s->second.failures);
        }
      }
    }
    it = children_.erase(it);
  }
}

std::map<std::string, std::uint64_t> ShimDaemon::all_counters() {
  std::map<std::string, std::uint64_t> out = counters_;
  out["frames_accepted"] = parse_counters_.accepted;
  for (std::size_t i = 0; i < kDropReasonCount; ++i) {
    out["drop_" + std::string(drop_reason_name(static_cast<DropReason>(i)))] = parse_counters_.dropped[i];
  }
  for (const auto& [k, v] : guards_.counters()) out[k] = v;
  std::uint64_t kernel = 0;
  for (auto& slot : slots_) kernel += slot.capture->kernel_drops();
  out["pcap_kernel_drops"] = kernel;
  out["fdb_dumps"] = bridges_.fdb_dumps();
  out["fdb_gets"] = bridges_.fdb_gets();
  return out;
}

void ShimDaemon::flush_touches(std::int64_t now) {
  next_touch_flush_ms_ = now + kTouchFlushMs;
  if (touches_.empty()) return;
  try {
    ledger_.begin();
    for (const auto& [mac, t] : touches_) ledger_.record_sighting(t.latest, t.sightings);
    ledger_.commit();
  } catch (const LedgerError& e) {
    ledger_.rollback();
    log::error(std::string("ledger write failed (sighting counts): ") + e.what());
    ++counters_["ledger_errors"];
  }
  touches_.clear();
}

void ShimDaemon::flush_counters(std::int64_t now) {
  next_counters_ms_ = now + config_.counters_interval_s * 1000;
  const std::uint64_t invalid = parse_counters_.invalid_total();
  if (invalid != last_invalid_logged_) {
    std::ostringstream msg;
    msg << "dropped " << (invalid - last_invalid_logged_) << " malformed DHCP frame(s) (totals:";
    for (std::size_t i = static_cast<std::size_t>(DropReason::first_invalid); i < kDropReasonCount; ++i) {
      if (parse_counters_.dropped[i]) {
        msg << ' ' << drop_reason_name(static_cast<DropReason>(i)) << '=' << parse_counters_.dropped[i];
      }
    }
    msg << ')';
    log::warning(msg.str());
    last_invalid_logged_ = invalid;
  }
  try {
    ledger_.save_counters(all_counters(), now);
  } catch (const LedgerError& e) {
    log::error(std::string("saving counters: ") + e.what());
  }
}

std::int64_t ShimDaemon::next_wakeup(std::int64_t now) {
  std::int64_t next = std::min({next_topology_ms_, next_counters_ms_, next_sync_ms_, now + 1000});
  if (!schedule_.empty()) next = std::min(next, next_check_ms_);
  if (!touches_.empty()) next = std::min(next, next_touch_flush_ms_);
  for (const auto& slot : slots_) {
    if (!slot.capture->is_open()) next = std::min(next, slot.next_retry_ms);
  }
  for (const auto& [mac, s] : schedule_) {
    if (s.in_flight) continue;
    // While insert-ethers is absent, poll its lock file quickly so its start
    // is noticed well inside the latency budget.
    next = std::min(next, std::max(s.due_ms, now + (lock_present_logged_.value_or(true) ? 0 : kLockPollMs)));
  }
  for (const auto& [pid, c] : children_) next = std::min(next, c.process.deadline_ms);
  return next;
}

int ShimDaemon::run() {
  setup_signals();
  std::int64_t now = wall_ms();
  log::notice("insert-ethers-shim starting: ledger " + config_.ledger + ", feeder " + feeder_->name() +
              ", private interface " + config_.private_interface + ", " + std::to_string(schedule_.size()) +
              " pending MAC(s) from the ledger");
  open_captures(now);
  check_topology(now);
  next_counters_ms_ = now + config_.counters_interval_s * 1000;
  next_check_ms_ = now;
  next_sync_ms_ = now + kScheduleSyncMs;

  std::vector<pollfd> fds;
  std::vector<int> fd_slot;  // index into slots_, or -1 signalfd, -2 child pipe
  while (!stop_) {
    fds.clear();
    fd_slot.clear();
    fds.push_back(pollfd{signal_fd_, POLLIN, 0});
    fd_slot.push_back(-1);
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      if (!slots_[i].capture->is_open()) continue;
      fds.push_back(pollfd{slots_[i].capture->fd(), POLLIN, 0});
      fd_slot.push_back(static_cast<int>(i));
    }
    for (const auto& [pid, c] : children_) {
      if (c.process.stdout_fd >= 0 && !c.eof) {
        fds.push_back(pollfd{c.process.stdout_fd, POLLIN, 0});
        fd_slot.push_back(-2);
      }
    }
    now = wall_ms();
    // A 1 ms floor: a timer that cannot make progress (e.g. a ledger error)
    // must not turn into a busy loop. Fresh discoveries never wait for it:
    // they are announced in the iteration that captured them.
    const std::int64_t timeout = std::max<std::int64_t>(1, next_wakeup(now) - now);
    int n = ::poll(fds.data(), fds.size(), static_cast<int>(std::min<std::int64_t>(timeout, 60000)));
    if (n < 0 && errno != EINTR) throw std::system_error(errno, std::generic_category(), "poll");
    now = wall_ms();

    for (std::size_t k = 0; k < fds.size() && n > 0; ++k) {
      if (fds[k].revents == 0) continue;
      if (fd_slot[k] == -1) {
        signalfd_siginfo si{};
        while (::read(signal_fd_, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
          if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
            log::notice(std::string("received ") + strsignal(static_cast<int>(si.ssi_signo)) + ", stopping");
            stop_ = true;
          } else if (si.ssi_signo == SIGHUP) {
            log::notice("SIGHUP: re-checking topology and registrations now");
            next_topology_ms_ = now;
            next_check_ms_ = now;
          }
        }
      } else if (fd_slot[k] >= 0) {
        auto idx = static_cast<std::size_t>(fd_slot[k]);
        CaptureSlot& slot = slots_[idx];
        std::string error;
        int got = slot.capture->dispatch(
            kMaxFramesPerDispatch,
            [this, idx](const std::uint8_t* d, std::size_t caplen, std::size_t, std::int64_t ts) {
              on_frame(idx, d, caplen, ts);
            },
            error);
        if (got < 0 || (fds[k].revents & (POLLERR | POLLNVAL)) != 0) {
          if (error.empty()) error = "capture socket error";
          log::warning("capture on " + slot.capture->interface() + " lost: " + error + "; retrying every " +
                       std::to_string(config_.interface_retry_s) + " s");
          slot.failure_logged = true;
          slot.capture->close();
          slot.next_retry_ms = now + config_.interface_retry_s * 1000;
        }
      }
    }
    process_sightings(now);
    service_children(now);
    run_announcements(now);
    if (now >= next_check_ms_) start_registered_check(now);
    if (now >= next_topology_ms_) check_topology(now);
    open_captures(now);
    if (now >= next_counters_ms_) flush_counters(now);
    if (now >= next_sync_ms_) sync_schedule(now);
    if (!touches_.empty() && now >= next_touch_flush_ms_) flush_touches(now);
  }
  flush_touches(wall_ms());
  flush_counters(wall_ms());
  return 0;
}

}  // namespace segbridge::shim
