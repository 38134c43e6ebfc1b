#include "segbridge/core/device.hpp"

#include <sodium.h>

#include <algorithm>

#include "segbridge/core/fragmenter.hpp"

namespace segbridge::core {

namespace {
constexpr std::int64_t kNever = INT64_MIN;

std::int64_t ticks(TimePoint t) {
  return t.time_since_epoch().count();
}
TimePoint at(std::int64_t v) {
  return TimePoint(TimePoint::duration(v));
}
Duration jitter() {
  return Duration(randombytes_uniform(static_cast<std::uint32_t>(kHandshakeRetryJitter.count())));
}
// Sets an "since" marker only if it is not already set (first event wins).
void mark_since(std::atomic<std::int64_t>& a, TimePoint now) {
  if (a.load(std::memory_order_relaxed) == kNever) {
    std::int64_t expected = kNever;
    a.compare_exchange_strong(expected, ticks(now), std::memory_order_relaxed);
  }
}
void clear_since(std::atomic<std::int64_t>& a) {
  if (a.load(std::memory_order_relaxed) != kNever) a.store(kNever, std::memory_order_relaxed);
}
}  // namespace

Device::Device(const DeviceConfig& config, std::unique_ptr<Handshaker> handshaker)
    : config_(config),
      handshaker_(std::move(handshaker)),
      path_mtu_(std::clamp(config.path_mtu, kMinPathMtu, kMaxPathMtu)) {
  config_.path_mtu = path_mtu_.load();
  if (sodium_init() < 0) std::abort();  // idempotent; must succeed before threads start
  published_index_ = std::make_shared<IndexMap>();
}

Device::~Device() {
  for (auto& [id, peer] : peers_) handshaker_->remove_peer(id);
}

std::size_t Device::max_datagram_size() const {
  std::size_t mtu = path_mtu_.load(std::memory_order_relaxed);
  std::size_t data = mtu > kIpv4HeaderSize + kUdpHeaderSize ? mtu - kIpv4HeaderSize - kUdpHeaderSize : 0;
  return std::min(kMaxDatagramSize, std::max({data, handshaker_->max_message_size(), kKeepaliveSize}));
}

void Device::set_path_mtu(unsigned path_mtu) {
  path_mtu_.store(std::clamp(path_mtu, kMinPathMtu, kMaxPathMtu), std::memory_order_relaxed);
  config_.path_mtu = path_mtu_.load();
}

// ---------------------------------------------------------------- peers

std::shared_ptr<Peer> Device::add_peer(const PeerConfig& config, std::string* error) {
  if (find_peer(config.name)) {
    if (error) *error = "duplicate peer name '" + config.name + "'";
    return nullptr;
  }
  PeerId id = next_peer_id_++;
  PeerCredentials credentials = config.credentials;
  if (credentials.name.empty()) credentials.name = config.name;
  std::string e = handshaker_->add_peer(id, credentials);
  if (!e.empty()) {
    if (error) *error = e;
    return nullptr;
  }
  auto peer = std::make_shared<Peer>(id, config);
  peers_[id] = peer;
  return peer;
}

void Device::remove_peer(PeerId id) {
  auto it = peers_.find(id);
  if (it == peers_.end()) return;
  drop_sessions(*it->second);
  handshaker_->remove_peer(id);
  peers_.erase(it);
}

std::shared_ptr<Peer> Device::find_peer(PeerId id) const {
  auto it = peers_.find(id);
  return it == peers_.end() ? nullptr : it->second;
}

std::shared_ptr<Peer> Device::find_peer(const std::string& name) const {
  for (auto& [id, peer] : peers_)
    if (peer->name() == name) return peer;
  return nullptr;
}

std::vector<std::shared_ptr<Peer>> Device::peers() const {
  std::vector<std::shared_ptr<Peer>> v;
  for (auto& [id, peer] : peers_) v.push_back(peer);
  std::sort(v.begin(), v.end(), [](auto& a, auto& b) { return a->id() < b->id(); });
  return v;
}

// ---------------------------------------------------------------- publication

void Device::publish_index() {
  std::atomic_store(&published_index_, std::shared_ptr<const IndexMap>(std::make_shared<IndexMap>(index_)));
  index_generation_.fetch_add(1, std::memory_order_release);
}

void Device::publish_send(Peer& peer) {
  std::shared_ptr<Session> s = peer.current_;
  std::atomic_store(&peer.published_send_, s);
  peer.send_generation_.fetch_add(1, std::memory_order_release);
}

const Device::IndexMap& Device::rx_index(RxContext& context) {
  std::uint64_t g = index_generation_.load(std::memory_order_acquire);
  if (g != context.generation_) {
    context.index_ = std::atomic_load(&published_index_);
    context.generation_ = g;
  }
  return *static_cast<const IndexMap*>(context.index_.get());
}

std::uint32_t Device::fresh_index() const {
  for (;;) {
    std::uint32_t i = 0;
    randombytes_buf(&i, sizeof i);
    if (i != 0 && index_.count(i) == 0 && pending_.count(i) == 0) return i;
  }
}

void Device::update_state(Peer& peer) {
  PeerState s = PeerState::idle;
  if (peer.current_)
    s = PeerState::established;
  else if (peer.pending_index_ != 0)
    s = PeerState::handshaking;
  peer.state_.store(s, std::memory_order_relaxed);
}

void Device::drop_sessions(Peer& peer) {
  for (auto* slot : {&peer.current_, &peer.next_}) {
    if (*slot) index_.erase((*slot)->local_index());
    slot->reset();
  }
  for (auto& s : peer.retired_) index_.erase(s->local_index());
  peer.retired_.clear();
  if (peer.pending_index_) pending_.erase(peer.pending_index_);
  peer.pending_index_ = 0;
  publish_index();
  publish_send(peer);
  update_state(peer);
}

void Device::install_session(Peer& peer, const SessionKeys& keys, TimePoint now, const Endpoint& from) {
  auto session = std::make_shared<Session>(keys, now);
  if (keys.initiator) {
    // Key rotation: the old current is retired, still accepted for packets in flight.
    retire(peer, std::move(peer.current_));
    peer.current_ = session;
    if (peer.pending_index_) pending_.erase(peer.pending_index_);
    peer.pending_index_ = 0;
    peer.retry_interval_ = kHandshakeRetryInitial;
  } else {
    // Responder: usable for sending only once the initiator proves it has the
    // keys (its first data packet), see peer_timers(). A waiting next session
    // is promoted now if confirmed; otherwise it may be the initiator's current
    // one until our new response arrives, so it stays receivable as retired.
    if (peer.next_ && peer.next_->received())
      promote_next(peer);
    else
      retire(peer, std::move(peer.next_));
    peer.next_ = session;
  }
  index_[keys.local_index] = IndexEntry{find_peer(peer.id()), session};
  publish_index();
  if (keys.initiator) publish_send(peer);
  peer.last_handshake_ = now;
  peer.last_handshake_ticks_.store(ticks(now), std::memory_order_relaxed);
  peer.counters_.add(Counter::handshakes_completed);
  // An authenticated handshake message counts as hearing from the peer.
  peer.last_received_.store(ticks(now), std::memory_order_relaxed);
  clear_since(peer.unanswered_since_);
  Endpoint e = from.unmapped();
  if (!e.empty() && e != peer.endpoint_.load()) peer.endpoint_.store(e);
  update_state(peer);
}

// ---------------------------------------------------------------- control: handshakes

DatagramClass Device::classify(ConstBytes datagram) {
  MessageType type{};
  if (check_envelope(datagram, &type) != DecodeError::none) return DatagramClass::invalid;
  return type == MessageType::data ? DatagramClass::data : DatagramClass::handshake;
}

RxResult Device::on_handshake(ConstBytes d, const Endpoint& from, TimePoint now, DatagramBatch& out, bool under_load) {
  RxResult r;
  MessageType type{};
  r.decode_error = check_envelope(d, &type);
  if (r.decode_error == DecodeError::none && type == MessageType::data) r.decode_error = DecodeError::unknown_type;
  if (r.decode_error != DecodeError::none) {
    r.drop = DropReason::malformed;
    counters_.drop(r.drop);
    return r;
  }
  auto count_drop = [&](const HandshakeResult& h) {
    r.drop = h.drop;
    r.peer = find_peer(h.peer);
    if (r.peer)
      r.peer->counters_.drop(h.drop);
    else
      counters_.drop(h.drop);
  };

  if (type == handshaker_->initiation_type()) {
    std::uint8_t* slot = out.claim();
    if (!slot) {
      r.drop = DropReason::batch_full;
      counters_.drop(r.drop);
      return r;
    }
    std::uint32_t index = fresh_index();
    HandshakeResult h =
        handshaker_->consume_initiation(d, from, now, index, under_load, MutableBytes(slot, out.slot_size()));
    if (h.drop != DropReason::none) {
      count_drop(h);
      if (h.reply_size > 0) out.commit(h.reply_size, from, h.peer);  // a cookie reply (Noise under load)
      return r;
    }
    auto peer = find_peer(h.peer);
    if (!peer || !h.session) {
      r.drop = DropReason::handshake_unknown_peer;
      counters_.drop(r.drop);
      return r;
    }
    install_session(*peer, *h.session, now, from);
    out.commit(h.reply_size, peer->endpoint(), peer->id());
    peer->counters_.add(Counter::handshake_responses_sent);
    peer->last_any_sent_.store(ticks(now), std::memory_order_relaxed);
    r.peer = peer;
    return r;
  }

  bool is_response = type == handshaker_->response_type();
  if (is_response || type == MessageType::cookie_reply) {
    std::uint32_t receiver = handshake_receiver_index(d);
    auto pit = pending_.find(receiver);
    if (pit == pending_.end()) {
      r.drop = DropReason::unknown_index;
      counters_.drop(r.drop);
      return r;
    }
    auto peer = find_peer(pit->second);
    if (!peer) {
      r.drop = DropReason::unknown_index;
      counters_.drop(r.drop);
      return r;
    }
    HandshakeResult h = is_response ? handshaker_->consume_response(peer->id(), d, from, now)
                                    : handshaker_->consume_cookie_reply(peer->id(), d, now);
    if (h.drop != DropReason::none) {
      h.peer = peer->id();
      count_drop(h);
      return r;
    }
    r.peer = peer;
    if (h.session) {
      install_session(*peer, *h.session, now, from);
      // Confirm the new session to the responder at once (it waits for our first packet).
      seal_keepalive(*peer, now, out);
    }
    return r;
  }

  r.drop = DropReason::handshake_unsupported;
  counters_.drop(r.drop);
  return r;
}

void Device::initiate_handshake(Peer& peer, TimePoint now, DatagramBatch& out) {
  Endpoint to = peer.endpoint_.load();
  if (to.empty()) return;
  std::uint8_t* slot = out.claim();
  if (!slot) return;
  bool retry = peer.pending_index_ != 0;
  std::uint32_t index = fresh_index();
  HandshakeResult h = handshaker_->create_initiation(peer.id(), index, now, MutableBytes(slot, out.slot_size()));
  if (h.drop != DropReason::none || h.reply_size == 0) {
    peer.counters_.drop(h.drop == DropReason::none ? DropReason::handshake_unsupported : h.drop);
    peer.last_initiation_sent_ = now;  // rate-limits the next attempt: no busy loop on a failing handshaker
    return;
  }
  if (h.local_index != 0) index = h.local_index;
  if (retry) {
    pending_.erase(peer.pending_index_);
    peer.retry_interval_ = std::min<Duration>(peer.retry_interval_ * 2, kHandshakeRetryMax);
  } else {
    peer.pending_since_ = now;
    peer.retry_interval_ = kHandshakeRetryInitial;
  }
  pending_[index] = peer.id();
  peer.pending_index_ = index;
  peer.next_retry_ = now + peer.retry_interval_ + jitter();
  peer.last_initiation_sent_ = now;
  out.commit(h.reply_size, to, peer.id());
  peer.counters_.add(Counter::handshakes_initiated);
  peer.last_any_sent_.store(ticks(now), std::memory_order_relaxed);
  peer.wants_handshake_.store(false, std::memory_order_relaxed);
  update_state(peer);
}

bool Device::seal_keepalive(Peer& peer, TimePoint now, DatagramBatch& out) {
  auto& s = peer.current_;
  Endpoint to = peer.endpoint_.load();
  if (!s || to.empty() || s->expired(now)) return false;
  std::uint8_t* slot = out.claim();
  std::uint64_t counter = 0;
  if (!slot || !s->reserve_counters(1, &counter)) return false;
  DataHeader h;
  h.kind = DataKind::keepalive;
  h.receiver_index = s->remote_index();
  h.counter = counter;
  h.encode(slot);
  s->send_key().seal(counter, ConstBytes(slot, kDataHeaderSize), ConstBytes(), slot + kDataHeaderSize,
                     slot + kDataHeaderSize);
  out.commit(kKeepaliveSize, to, peer.id());
  peer.counters_.add(Counter::tx_keepalives);
  peer.counters_.add(Counter::tx_datagrams);
  peer.last_any_sent_.store(ticks(now), std::memory_order_relaxed);
  clear_since(peer.unreplied_since_);
  return true;
}

void Device::promote_next(Peer& peer) {
  retire(peer, std::move(peer.current_));
  peer.current_ = std::move(peer.next_);
  peer.next_.reset();
  publish_send(peer);
}

void Device::retire(Peer& peer, std::shared_ptr<Session> session) {
  if (!session) return;
  peer.retired_.push_back(std::move(session));
  while (peer.retired_.size() > kMaxRetiredSessions) {
    index_.erase(peer.retired_.front()->local_index());
    peer.retired_.erase(peer.retired_.begin());
  }
}

// ---------------------------------------------------------------- control: timers

void Device::peer_timers(Peer& peer, TimePoint now, DatagramBatch& out) {
  bool changed = false;
  // 1. Promote a confirmed responder session.
  if (peer.next_ && peer.next_->received()) {
    promote_next(peer);
    changed = true;
  }
  // 2. Expire sessions past REJECT_AFTER_TIME; the last reference wipes the keys.
  for (auto* slot : {&peer.current_, &peer.next_}) {
    if (*slot && (*slot)->expired(now)) {
      index_.erase((*slot)->local_index());
      bool was_current = slot == &peer.current_;
      slot->reset();
      if (was_current) publish_send(peer);
      changed = true;
    }
  }
  for (auto it = peer.retired_.begin(); it != peer.retired_.end();) {
    if ((*it)->expired(now)) {
      index_.erase((*it)->local_index());
      it = peer.retired_.erase(it);
      changed = true;
    } else {
      ++it;
    }
  }
  if (changed) publish_index();

  // 3. Handshake: retry, or start one when wanted.
  bool has_endpoint = !peer.endpoint_.load().empty();
  if (peer.pending_index_ != 0) {
    if (now >= peer.next_retry_) {
      if (!peer.config_.persistent && now - peer.pending_since_ >= kRekeyAttemptTime) {
        pending_.erase(peer.pending_index_);  // give up until traffic asks again
        peer.pending_index_ = 0;
      } else {
        initiate_handshake(peer, now, out);
      }
    }
  } else if (has_endpoint) {
    bool want = peer.wants_handshake_.load(std::memory_order_relaxed);
    auto& c = peer.current_;
    if (!c && peer.config_.persistent) want = true;
    if (c && c->initiator() && now - c->created() >= config_.rekey_after_time) want = true;
    if (c && c->sent_messages() >= kRekeyAfterMessages) want = true;
    std::int64_t unanswered = peer.unanswered_since_.load(std::memory_order_relaxed);
    bool dead = unanswered != kNever && now - at(unanswered) >= peer.config_.keepalive + kRekeyTimeout;
    bool rate_ok =
        peer.last_initiation_sent_ == TimePoint{} || now - peer.last_initiation_sent_ >= kHandshakeRetryInitial;
    if ((want || dead) && rate_ok) {
      // Dead peer (we sent, it stayed silent): re-armed by the next send.
      if (dead) peer.unanswered_since_.store(kNever, std::memory_order_relaxed);
      initiate_handshake(peer, now, out);
    }
  }

  // 4. Keepalives on the current session.
  if (peer.current_) {
    std::int64_t unreplied = peer.unreplied_since_.load(std::memory_order_relaxed);
    std::int64_t last_sent = peer.last_any_sent_.load(std::memory_order_relaxed);
    bool passive = unreplied != kNever && now - at(unreplied) >= peer.config_.keepalive;
    bool persistent = peer.config_.persistent_keepalive > Duration::zero() &&
                      (last_sent == kNever || now - at(last_sent) >= peer.config_.persistent_keepalive);
    if (passive || persistent) seal_keepalive(peer, now, out);
  }
  update_state(peer);
}

void Device::on_timer(TimePoint now, DatagramBatch& out) {
  for (auto& [id, peer] : peers_) {
    if (out.free_slots() < 2) break;  // the caller flushes and calls again
    peer_timers(*peer, now, out);
  }
}

TimePoint Device::peer_deadline(const Peer& peer, TimePoint now) const {
  TimePoint d = now + std::chrono::seconds(60);
  auto consider = [&](TimePoint t) { d = std::min(d, t); };
  if (peer.next_ && peer.next_->received()) consider(now);
  for (auto* s : {&peer.current_, &peer.next_})
    if (*s) consider((*s)->created() + kRejectAfterTime);
  for (auto& s : peer.retired_) consider(s->created() + kRejectAfterTime);
  bool has_endpoint = !peer.endpoint_.load().empty();
  TimePoint rate =
      peer.last_initiation_sent_ == TimePoint{} ? now : peer.last_initiation_sent_ + kHandshakeRetryInitial;
  if (peer.pending_index_ != 0) {
    consider(peer.next_retry_);
  } else if (has_endpoint) {
    auto& c = peer.current_;
    bool want_now = peer.wants_handshake_.load(std::memory_order_relaxed) || (!c && peer.config_.persistent) ||
                    (c && c->sent_messages() >= kRekeyAfterMessages);
    if (want_now) consider(std::max(now, rate));
    if (c && c->initiator()) consider(std::max(c->created() + config_.rekey_after_time, rate));
    std::int64_t unanswered = peer.unanswered_since_.load(std::memory_order_relaxed);
    if (unanswered != kNever) consider(std::max(at(unanswered) + peer.config_.keepalive + kRekeyTimeout, rate));
  }
  if (peer.current_) {
    std::int64_t unreplied = peer.unreplied_since_.load(std::memory_order_relaxed);
    if (unreplied != kNever) consider(at(unreplied) + peer.config_.keepalive);
    if (peer.config_.persistent_keepalive > Duration::zero()) {
      std::int64_t last_sent = peer.last_any_sent_.load(std::memory_order_relaxed);
      consider(last_sent == kNever ? now : at(last_sent) + peer.config_.persistent_keepalive);
    }
  }
  return d;
}

TimePoint Device::next_deadline(TimePoint now) const {
  TimePoint d = now + std::chrono::seconds(60);
  for (auto& [id, peer] : peers_) d = std::min(d, peer_deadline(*peer, now));
  return std::max(d, now);
}

// ---------------------------------------------------------------- RX

RxResult Device::on_data(RxContext& context, MutableBytes d, const Endpoint& from, TimePoint now) {
  RxResult r;
  DecodedData decoded;
  r.decode_error = decode_data(d, &decoded);
  if (r.decode_error != DecodeError::none) {
    r.drop = DropReason::malformed;
    counters_.drop(r.drop);
    return r;
  }
  const DataHeader& h = decoded.header;
  const IndexMap& index = rx_index(context);
  auto it = index.find(h.receiver_index);
  if (it == index.end()) {
    r.drop = DropReason::unknown_index;
    counters_.drop(r.drop);
    return r;
  }
  Peer& peer = *it->second.peer;
  Session& session = *it->second.session;
  if (session.expired(now)) {
    r.drop = DropReason::expired_session;
    peer.counters_.drop(r.drop);
    return r;
  }
  MutableBytes payload(d.data + kDataHeaderSize, decoded.ciphertext.size);
  if (!session.receive_key().open(h.counter, ConstBytes(d.data, kDataHeaderSize), payload, decoded.tag)) {
    r.drop = DropReason::unauthenticated;
    peer.counters_.drop(r.drop);
    return r;
  }
  if (!session.replay_window().check_and_update(h.counter)) {
    r.drop = DropReason::replay;
    peer.counters_.drop(r.drop);
    return r;
  }
  // Authenticated and fresh: only now may it move the endpoint or the timers.
  r.peer = it->second.peer;
  if (!session.received()) {
    session.mark_received();
    if (!session.initiator()) r.control_attention = true;  // promote the confirmed session
  }
  // Roam only on the newest packet of the session: a reordered older one
  // from the previous address must not move the endpoint back.
  Endpoint source = from.unmapped();
  if (session.replay_window().highest() == h.counter + 1 && source != peer.endpoint_.load())
    peer.endpoint_.store(source);
  peer.last_received_.store(ticks(now), std::memory_order_relaxed);
  clear_since(peer.unanswered_since_);
  peer.counters_.add(Counter::rx_datagrams);
  if (now >= peer.next_reassembly_sweep_) {
    // Partial frames whose missing pieces never come are counted as timed out
    // even if no further fragment arrives to trigger the lazy check.
    if (peer.reassembler_.expire(now) > 0) sync_reassembly_counters(peer);
    peer.next_reassembly_sweep_ = now + kReassemblySweepInterval;
  }

  switch (h.kind) {
    case DataKind::keepalive:
      peer.counters_.add(Counter::rx_keepalives);
      return r;
    case DataKind::frame:
      r.frame = ConstBytes(payload.data, payload.size);
      break;
    case DataKind::fragment: {
      peer.counters_.add(Counter::rx_fragments);
      auto res = peer.reassembler_.add(session.local_index(), h, payload, now);
      sync_reassembly_counters(peer);
      if (res.status == Reassembler::Status::duplicate) r.drop = DropReason::fragment_duplicate;
      if (res.status == Reassembler::Status::inconsistent) r.drop = DropReason::fragment_inconsistent;
      if (res.status != Reassembler::Status::complete) return r;
      r.frame = res.frame;
      break;
    }
  }
  peer.counters_.add(Counter::rx_frames);
  peer.counters_.add(Counter::rx_bytes, r.frame.size);
  mark_since(peer.unreplied_since_, now);
  return r;
}

// Folds the reassembler's statistics (plain integers, RX thread) into the
// peer's lock-free counters that any thread may read.
void Device::sync_reassembly_counters(Peer& peer) {
  const ReassemblyStats& s = peer.reassembler_.stats();
  ReassemblyStats& o = peer.rx_synced_stats_;
  peer.counters_.add(Counter::reassembled, s.reassembled - o.reassembled);
  peer.counters_.add(Counter::fragments_out_of_order, s.out_of_order - o.out_of_order);
  peer.counters_.add(Counter::fragments_missing, s.missing - o.missing);
  peer.counters_.drop(DropReason::fragment_duplicate, s.duplicate - o.duplicate);
  peer.counters_.drop(DropReason::fragment_inconsistent, s.inconsistent - o.inconsistent);
  peer.counters_.drop(DropReason::reassembly_timeout, s.timed_out - o.timed_out);
  peer.counters_.drop(DropReason::reassembly_evicted, s.evicted - o.evicted);
  o = s;
}

// ---------------------------------------------------------------- TX

TxResult Device::send_frame(Peer& peer, ConstBytes frame, TimePoint now, DatagramBatch& out) {
  TxResult r;
  auto fail = [&](DropReason why) {
    r.drop = why;
    peer.counters_.drop(why);
    return r;
  };
  if (frame.size < kMinFrameSize) return fail(DropReason::frame_too_small);
  if (frame.size > kMaxFrameSize) return fail(DropReason::frame_too_large);
  Endpoint to = peer.endpoint_.load();
  if (to.empty()) return fail(DropReason::no_endpoint);

  std::uint64_t g = peer.send_generation_.load(std::memory_order_acquire);
  if (g != peer.tx_generation_) {
    peer.tx_session_ = std::atomic_load(&peer.published_send_);
    peer.tx_generation_ = g;
  }
  Session* s = peer.tx_session_.get();
  if (!s || s->expired(now)) {
    if (!peer.wants_handshake_.exchange(true, std::memory_order_relaxed)) r.control_attention = true;
    return fail(DropReason::no_session);
  }
  std::size_t max_payload = max_fragment_payload(path_mtu_.load(std::memory_order_relaxed), to.family());
  if (out.slot_size() < kDataOverhead + 1) return fail(DropReason::batch_full);
  max_payload = std::min(max_payload, out.slot_size() - kDataOverhead);
  std::size_t n = fragment_count(frame.size, max_payload);
  if (n == 0) return fail(DropReason::frame_too_large);
  if (out.free_slots() < n) return fail(DropReason::batch_full);
  std::uint64_t first = 0;
  if (!s->reserve_counters(static_cast<std::uint32_t>(n), &first)) {
    if (!peer.wants_handshake_.exchange(true, std::memory_order_relaxed)) r.control_attention = true;
    return fail(DropReason::no_session);
  }
  DataHeader h;
  h.kind = n == 1 ? DataKind::frame : DataKind::fragment;
  h.fragment_count = n == 1 ? 0 : static_cast<std::uint8_t>(n);
  h.receiver_index = s->remote_index();
  h.frame_length = static_cast<std::uint16_t>(frame.size);
  const AeadKey& key = s->send_key();
  for (std::size_t i = 0; i < n; ++i) {
    auto geometry = fragment_geometry(frame.size, n, i);
    std::uint8_t* slot = out.claim();
    h.fragment_index = static_cast<std::uint8_t>(i);
    h.counter = first + i;
    h.encode(slot);
    key.seal(h.counter, ConstBytes(slot, kDataHeaderSize), ConstBytes(frame.data + geometry.offset, geometry.size),
             slot + kDataHeaderSize, slot + kDataHeaderSize + geometry.size);
    out.commit(kDataOverhead + geometry.size, to, peer.id());
  }
  r.datagrams = n;
  peer.counters_.add(Counter::tx_frames);
  peer.counters_.add(Counter::tx_bytes, frame.size);
  peer.counters_.add(Counter::tx_datagrams, n);
  if (n > 1) peer.counters_.add(Counter::tx_fragments, n);
  peer.last_any_sent_.store(ticks(now), std::memory_order_relaxed);
  clear_since(peer.unreplied_since_);
  mark_since(peer.unanswered_since_, now);
  // Time/volume based rekey (at most one request per second from this path).
  bool old =
      s->sent_messages() >= kRekeyAfterMessages || (s->initiator() && now - s->created() >= config_.rekey_after_time);
  if (old && now - peer.tx_last_rekey_request_ >= kHandshakeRetryInitial) {
    peer.tx_last_rekey_request_ = now;
    peer.wants_handshake_.store(true, std::memory_order_relaxed);
    r.control_attention = true;
  }
  return r;
}

// ---------------------------------------------------------------- single thread

RxResult Device::on_datagram(MutableBytes d, const Endpoint& from, TimePoint now, DatagramBatch& out) {
  switch (classify(d)) {
    case DatagramClass::data:
      return on_data(single_thread_rx_, d, from, now);
    case DatagramClass::handshake:
      return on_handshake(d, from, now, out);
    case DatagramClass::invalid:
      break;
  }
  RxResult r;
  r.decode_error = check_envelope(d, nullptr);
  r.drop = DropReason::malformed;
  counters_.drop(r.drop);
  return r;
}

}  // namespace segbridge::core
