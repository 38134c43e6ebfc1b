#include "segbridge/crypto/noise_handshake.hpp"

#include <sodium.h>

#include <algorithm>
#include <stdexcept>

#include "segbridge/crypto/sodium.hpp"

namespace segbridge::crypto {

namespace {

// The session both handshake directions end in: Split() keys plus the indices.
NoiseSession make_session(PeerId peer, bool initiator, std::uint32_t local_index, std::uint32_t remote_index,
                          TransportKeys keys) {
  NoiseSession s;
  s.peer = peer;
  s.initiator = initiator;
  s.local_index = local_index;
  s.remote_index = remote_index;
  s.send_key = std::move(keys.send);
  s.receive_key = std::move(keys.receive);
  s.handshake_hash = std::move(keys.handshake_hash);
  return s;
}

}  // namespace

std::string make_prologue(AeadSuite suite) {
  std::string p = "segbridge noise-ik";
  p.push_back('\0');
  p.push_back(static_cast<char>(kWireVersion));
  p.push_back(static_cast<char>(suite));
  return p;
}

std::string_view drop_name(HandshakeDrop drop) {
  switch (drop) {
    case HandshakeDrop::malformed:
      return "handshake_malformed";
    case HandshakeDrop::bad_mac1:
      return "handshake_bad_mac1";
    case HandshakeDrop::cookie_required:
      return "handshake_cookie_required";
    case HandshakeDrop::rate_limited:
      return "handshake_rate_limited";
    case HandshakeDrop::decrypt_failed:
      return "handshake_decrypt_failed";
    case HandshakeDrop::unknown_peer:
      return "handshake_unknown_peer";
    case HandshakeDrop::replayed_timestamp:
      return "handshake_replayed_timestamp";
    case HandshakeDrop::flood:
      return "handshake_flood";
    case HandshakeDrop::unknown_index:
      return "handshake_unknown_index";
    case HandshakeDrop::bad_cookie_reply:
      return "handshake_bad_cookie_reply";
    case HandshakeDrop::count_:
      break;
  }
  return "handshake_unknown";
}

struct NoiseHandshake::Peer {
  Peer(PeerId peer_id, const PublicKey& peer_key, SecretKey peer_psk)
      : id(peer_id), key(peer_key), psk(std::move(peer_psk)), cookies(peer_key) {}

  PeerId id;
  PublicKey key;
  SecretKey psk;
  CookieGenerator cookies;  // stamps what we send to this peer
  // Initiator side: the one initiation in flight.
  std::optional<IkPsk2Initiator> pending;
  std::uint32_t pending_index = 0;
  Tai64n last_sent_timestamp{};
  // Responder side: replay and flood protection.
  Tai64n last_timestamp{};
  bool has_timestamp = false;
  Instant last_initiation{};
  bool has_initiation = false;
  std::uint32_t last_response_index = 0;
  bool has_response = false;
};

NoiseHandshake::NoiseHandshake(SecretKey static_private, NoiseHandshakeConfig config, RandomSource& random)
    : static_private_(std::move(static_private)),
      public_(x25519_public_key(static_private_.data())),
      config_(config),
      random_(random),
      prologue_(make_prologue(config.aead)),
      checker_(public_, random),
      limiter_(config.rate),
      load_(config.load) {}

NoiseHandshake::~NoiseHandshake() = default;

void NoiseHandshake::add_peer(PeerId id, const PublicKey& key, std::optional<SecretKey> psk) {
  if (peers_.count(id) != 0) throw std::invalid_argument("peer id already configured");
  if (by_key_.count(key) != 0) throw std::invalid_argument("two peers have the same public key");
  if (sodium_memcmp(key.data(), public_.data(), key.size()) == 0) {
    throw std::invalid_argument("a peer's public key is this site's own public key");
  }
  SecretKey k = psk ? std::move(*psk) : SecretKey();
  peers_.emplace(id, std::make_unique<Peer>(id, key, std::move(k)));
  by_key_.emplace(key, id);
}

void NoiseHandshake::remove_peer(PeerId id) {
  auto it = peers_.find(id);
  if (it == peers_.end()) return;
  Peer& p = *it->second;
  if (p.pending) pending_by_index_.erase(p.pending_index);
  if (p.has_response) response_by_index_.erase(p.last_response_index);
  by_key_.erase(p.key);
  peers_.erase(it);
}

std::uint32_t NoiseHandshake::allocate_index() {
  for (;;) {
    const std::uint32_t index = random_.next_u32();
    if (pending_by_index_.count(index) || response_by_index_.count(index)) continue;
    if (index_in_use_ && index_in_use_(index)) continue;
    return index;
  }
}

HandshakeOutcome NoiseHandshake::drop(HandshakeDrop why, std::optional<PeerId> peer) {
  ++counters_.drops[static_cast<std::size_t>(why)];
  HandshakeOutcome out;
  out.kind = HandshakeOutcome::Kind::dropped;
  out.drop = why;
  out.peer = peer;
  return out;
}

std::optional<std::uint32_t> NoiseHandshake::create_initiation(PeerId id, Instant now, WallTime wall,
                                                               std::uint8_t out[kInitiationSize],
                                                               std::optional<std::uint32_t> local_index) {
  auto it = peers_.find(id);
  if (it == peers_.end()) return std::nullopt;
  Peer& p = *it->second;
  abandon_initiation(id);

  WipedKey ephemeral;
  random_.fill(ephemeral.data(), ephemeral.size());
  IkPsk2Initiator hs(kNoiseProtocolName, reinterpret_cast<const std::uint8_t*>(prologue_.data()), prologue_.size(),
                     static_private_.data(), p.key, p.psk.data(), ephemeral.data());
  // Never repeat a timestamp, even when retrying within one rounding step
  // or after the wall clock stepped back.
  Tai64n ts = tai64n_from(wall);
  if (!tai64n_after(ts, p.last_sent_timestamp)) ts = tai64n_next(p.last_sent_timestamp);

  std::fill(out, out + kInitiationSize, 0);
  write_header(out, HandshakeType::initiation);
  const std::uint32_t index = local_index ? *local_index : allocate_index();
  write_le32(out + initiation::sender, index);
  if (!hs.write_message1(ts.data(), ts.size(), out + initiation::noise_begin)) {
    std::fill(out, out + kInitiationSize, 0);
    return std::nullopt;
  }
  p.cookies.add_macs(out, kInitiationSize, now);
  p.last_sent_timestamp = ts;
  p.pending.emplace(std::move(hs));
  p.pending_index = index;
  pending_by_index_[index] = id;
  ++counters_.initiations_sent;
  return index;
}

void NoiseHandshake::abandon_initiation(PeerId id) {
  auto it = peers_.find(id);
  if (it == peers_.end() || !it->second->pending) return;
  pending_by_index_.erase(it->second->pending_index);
  it->second->pending.reset();
}

HandshakeOutcome NoiseHandshake::consume(const std::uint8_t* packet, std::size_t len, const SourceAddress& from,
                                         Instant now, const ConsumeOptions& options) {
  const auto type = classify_handshake(packet, len);
  if (!type) return drop(HandshakeDrop::malformed);
  switch (*type) {
    case HandshakeType::initiation:
      return consume_initiation(packet, from, now, options);
    case HandshakeType::response:
      return consume_response(packet, from, now, options);
    case HandshakeType::cookie_reply:
      return consume_cookie_reply(packet, now, options);
  }
  return drop(HandshakeDrop::malformed);
}

bool NoiseHandshake::pass_load_checks(const std::uint8_t* packet, std::size_t len, std::uint32_t sender,
                                      const SourceAddress& from, Instant now, const ConsumeOptions& options,
                                      HandshakeOutcome& out) {
  load_.record(now);
  if (!options.load_checks) return true;
  const bool loaded = options.under_load ? *options.under_load || load_.under_load(now) : load_.under_load(now);
  if (!loaded) return true;
  if (!checker_.check_mac2(packet, len, from, now)) {
    // The reply (64 B) is smaller than anything that can provoke it.
    out = drop(HandshakeDrop::cookie_required);
    out.kind = HandshakeOutcome::Kind::send_cookie_reply;
    checker_.make_reply(packet, len, sender, from, now, out.reply.data());
    out.reply_len = kCookieReplySize;
    ++counters_.cookie_replies_sent;
    return false;
  }
  if (!limiter_.allow(from, now)) {
    out = drop(HandshakeDrop::rate_limited);
    return false;
  }
  return true;
}

HandshakeOutcome NoiseHandshake::consume_initiation(const std::uint8_t* packet, const SourceAddress& from, Instant now,
                                                    const ConsumeOptions& options) {
  if (!checker_.check_mac1(packet, kInitiationSize)) return drop(HandshakeDrop::bad_mac1);
  const std::uint32_t sender = read_le32(packet + initiation::sender);
  HandshakeOutcome out;
  if (!pass_load_checks(packet, kInitiationSize, sender, from, now, options, out)) return out;

  IkPsk2Responder hs(kNoiseProtocolName, reinterpret_cast<const std::uint8_t*>(prologue_.data()), prologue_.size(),
                     static_private_.data());
  Tai64n ts{};
  if (!hs.read_message1(packet + initiation::noise_begin, initiation::noise_size, ts.data())) {
    return drop(HandshakeDrop::decrypt_failed);
  }
  auto key_it = by_key_.find(hs.remote_static());
  if (key_it == by_key_.end()) return drop(HandshakeDrop::unknown_peer);
  Peer& p = *peers_.at(key_it->second);
  if (p.has_timestamp && !tai64n_after(ts, p.last_timestamp)) return drop(HandshakeDrop::replayed_timestamp, p.id);
  if (p.has_initiation && now - p.last_initiation < config_.min_initiation_interval) {
    return drop(HandshakeDrop::flood, p.id);
  }

  WipedKey ephemeral;
  random_.fill(ephemeral.data(), ephemeral.size());
  std::array<std::uint8_t, kResponseSize>& reply = out.reply;
  reply.fill(0);
  write_header(reply.data(), HandshakeType::response);
  const std::uint32_t index = options.local_index ? *options.local_index : allocate_index();
  write_le32(reply.data() + response::sender, index);
  write_le32(reply.data() + response::receiver, sender);
  if (!hs.write_message2(p.psk.data(), ephemeral.data(), nullptr, 0, reply.data() + response::noise_begin)) {
    return drop(HandshakeDrop::decrypt_failed, p.id);  // initiator ephemeral of small order
  }
  p.cookies.add_macs(reply.data(), kResponseSize, now);

  // Authenticated: only now does any state change.
  p.last_timestamp = ts;
  p.has_timestamp = true;
  p.last_initiation = now;
  p.has_initiation = true;
  if (p.has_response) response_by_index_.erase(p.last_response_index);
  p.last_response_index = index;
  p.has_response = true;
  response_by_index_[index] = p.id;

  out.kind = HandshakeOutcome::Kind::initiation_accepted;
  out.peer = p.id;
  out.reply_len = kResponseSize;
  out.session.emplace(make_session(p.id, /*initiator=*/false, index, sender, hs.split()));
  ++counters_.initiations_accepted;
  return out;
}

HandshakeOutcome NoiseHandshake::consume_response(const std::uint8_t* packet, const SourceAddress& from, Instant now,
                                                  const ConsumeOptions& options) {
  if (!checker_.check_mac1(packet, kResponseSize)) return drop(HandshakeDrop::bad_mac1);
  const std::uint32_t sender = read_le32(packet + response::sender);
  HandshakeOutcome out;
  if (!pass_load_checks(packet, kResponseSize, sender, from, now, options, out)) return out;

  const std::uint32_t receiver = read_le32(packet + response::receiver);
  auto idx = pending_by_index_.find(receiver);
  if (idx == pending_by_index_.end()) return drop(HandshakeDrop::unknown_index, options.expected_peer);
  if (options.expected_peer && *options.expected_peer != idx->second) {
    return drop(HandshakeDrop::unknown_index, options.expected_peer);
  }
  Peer& p = *peers_.at(idx->second);
  // Work on a copy: a forged response must not disturb the real handshake.
  IkPsk2Initiator attempt = *p.pending;
  std::uint8_t nothing[1];
  if (!attempt.read_message2(packet + response::noise_begin, response::noise_size, nothing)) {
    return drop(HandshakeDrop::decrypt_failed, p.id);
  }
  pending_by_index_.erase(idx);
  p.pending.reset();

  out.kind = HandshakeOutcome::Kind::response_accepted;
  out.peer = p.id;
  out.session.emplace(make_session(p.id, /*initiator=*/true, receiver, sender, attempt.split()));
  ++counters_.responses_accepted;
  return out;
}

HandshakeOutcome NoiseHandshake::consume_cookie_reply(const std::uint8_t* packet, Instant now,
                                                      const ConsumeOptions& options) {
  const std::uint32_t receiver = read_le32(packet + cookie_reply::receiver);
  std::optional<PeerId> peer;
  if (auto it = pending_by_index_.find(receiver); it != pending_by_index_.end()) peer = it->second;
  if (auto it = response_by_index_.find(receiver); !peer && it != response_by_index_.end()) peer = it->second;
  if (!peer || (options.expected_peer && *options.expected_peer != *peer)) {
    return drop(HandshakeDrop::unknown_index, options.expected_peer);
  }
  if (!peers_.at(*peer)->cookies.consume_reply(packet, now)) return drop(HandshakeDrop::bad_cookie_reply, peer);
  HandshakeOutcome out;
  out.kind = HandshakeOutcome::Kind::cookie_accepted;
  out.peer = peer;
  ++counters_.cookie_replies_accepted;
  return out;
}

}  // namespace segbridge::crypto
