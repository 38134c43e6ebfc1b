#include "segbridge/core/psk_handshake.hpp"

#include <sodium.h>

#include <array>
#include <cstring>

namespace segbridge::core {

using namespace psk_layout;

namespace {
// Domain-separation labels (docs/PROTOCOL.md §3.3).
constexpr char kLabelMacKey[] = "segbridge psk v1 mac key";
constexpr char kLabelKdfKey[] = "segbridge psk v1 kdf key";
constexpr char kLabelInitiatorToResponder[] = "segbridge psk v1 initiator->responder";
constexpr char kLabelResponderToInitiator[] = "segbridge psk v1 responder->initiator";

// BLAKE2b keyed hash of the concatenation of `parts`.
struct Part {
  const void* data;
  std::size_t size;
};
void keyed_hash(std::uint8_t* out, std::size_t out_len, const std::uint8_t* key, std::size_t key_len,
                std::initializer_list<Part> parts) {
  crypto_generichash_state st;
  crypto_generichash_init(&st, key, key_len, out_len);
  for (auto& p : parts) crypto_generichash_update(&st, static_cast<const std::uint8_t*>(p.data), p.size);
  crypto_generichash_final(&st, out, out_len);
  sodium_memzero(&st, sizeof st);
}
Part label(const char* s) {
  return {s, std::strlen(s)};
}
}  // namespace

struct PskHandshaker::PeerState {
  std::string name;
  SecretKey mac_key;  // BLAKE2b-256(key = PSK, label mac)
  SecretKey kdf_key;  // BLAKE2b-256(key = PSK, label kdf)
  // Pending initiation (initiator side).
  bool pending = false;
  std::uint32_t pending_index = 0;
  std::array<std::uint8_t, kPskInitiationSize> pending_message{};
  // Responder side replay/flood protection.
  std::uint64_t last_timestamp = 0;
  bool have_last_initiation = false;
  TimePoint last_initiation{};

  ~PeerState() { sodium_memzero(pending_message.data(), pending_message.size()); }
};

PskHandshaker::PskHandshaker(std::string local_name, AeadSet accepted_aeads, WallClock wall_clock)
    : local_name_(std::move(local_name)),
      accepted_(static_cast<AeadSet>(accepted_aeads & locally_available_aeads())),
      wall_clock_(std::move(wall_clock)) {}

PskHandshaker::~PskHandshaker() = default;

bool PskHandshaker::valid_name(const std::string& name) {
  if (name.empty() || name.size() >= kNameSize) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string PskHandshaker::add_peer(PeerId peer, const PeerCredentials& credentials) {
  if (!valid_name(credentials.name)) return "peer name must be 1-15 characters of [a-z0-9-]";
  if (!credentials.psk) return "PSK mode needs a pre-shared key for peer '" + credentials.name + "'";
  auto it = by_name_.find(credentials.name);
  if (it != by_name_.end() && it->second != peer) return "duplicate peer name '" + credentials.name + "'";
  auto state = std::make_unique<PeerState>();
  state->name = credentials.name;
  keyed_hash(state->mac_key.data(), SecretKey::kSize, credentials.psk->data(), SecretKey::kSize, {label(kLabelMacKey)});
  keyed_hash(state->kdf_key.data(), SecretKey::kSize, credentials.psk->data(), SecretKey::kSize, {label(kLabelKdfKey)});
  if (auto old = peers_.find(peer); old != peers_.end()) by_name_.erase(old->second->name);
  by_name_[credentials.name] = peer;
  peers_[peer] = std::move(state);
  return {};
}

void PskHandshaker::remove_peer(PeerId peer) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;
  by_name_.erase(it->second->name);
  peers_.erase(it);
}

PskHandshaker::PeerState* PskHandshaker::find(PeerId peer) {
  auto it = peers_.find(peer);
  return it == peers_.end() ? nullptr : it->second.get();
}

HandshakeResult PskHandshaker::create_initiation(PeerId peer, std::uint32_t local_index, TimePoint, MutableBytes out) {
  HandshakeResult r;
  PeerState* st = find(peer);
  if (!st) {
    r.drop = DropReason::handshake_unknown_peer;
    return r;
  }
  if (out.size < kPskInitiationSize || accepted_ == 0 || !valid_name(local_name_)) {
    r.drop = DropReason::handshake_unsupported;
    return r;
  }
  // Strictly increasing even if the wall clock stalls or steps back a little.
  std::uint64_t ts = wall_clock_ ? wall_clock_() : 0;
  if (ts <= last_timestamp_sent_) ts = last_timestamp_sent_ + 1;
  last_timestamp_sent_ = ts;

  std::uint8_t* m = out.data;
  std::memset(m, 0, kPskInitiationSize);
  m[0] = static_cast<std::uint8_t>(MessageType::psk_initiation);
  m[1] = kProtocolVersion;
  store_le32(m + kInitSender, local_index);
  store_le64(m + kInitTimestamp, ts);
  randombytes_buf(m + kInitNonce, kNonceSize);
  m[kInitAeadOffer] = accepted_;
  std::memcpy(m + kInitName, local_name_.data(), local_name_.size());
  keyed_hash(m + kInitMac, kMacSize, st->mac_key.data(), SecretKey::kSize, {{m, kInitMac}});

  st->pending = true;
  st->pending_index = local_index;
  std::memcpy(st->pending_message.data(), m, kPskInitiationSize);
  r.peer = peer;
  r.reply_size = kPskInitiationSize;
  return r;
}

namespace {
void derive_session(const PskHandshaker&, const SecretKey& kdf_key, const std::uint8_t* initiation,
                    const std::uint8_t* response, bool initiator, SessionKeys* keys) {
  // Transcript hash over both complete messages (nonces, indices, offer, choice, MACs).
  std::uint8_t th[32];
  keyed_hash(th, sizeof th, nullptr, 0, {{initiation, kPskInitiationSize}, {response, kPskResponseSize}});
  SecretKey i2r, r2i;
  keyed_hash(i2r.data(), SecretKey::kSize, kdf_key.data(), SecretKey::kSize,
             {label(kLabelInitiatorToResponder), {th, sizeof th}});
  keyed_hash(r2i.data(), SecretKey::kSize, kdf_key.data(), SecretKey::kSize,
             {label(kLabelResponderToInitiator), {th, sizeof th}});
  keys->send_key = initiator ? i2r : r2i;
  keys->receive_key = initiator ? r2i : i2r;
  keys->initiator = initiator;
  sodium_memzero(th, sizeof th);
}
}  // namespace

HandshakeResult PskHandshaker::consume_initiation(ConstBytes m, const Endpoint&, TimePoint now,
                                                  std::uint32_t local_index, bool, MutableBytes reply) {
  HandshakeResult r;
  if (m.size != kPskInitiationSize || m[0] != static_cast<std::uint8_t>(MessageType::psk_initiation)) {
    r.drop = DropReason::malformed;
    return r;
  }
  // Name: NUL-padded, 1..15 valid characters, nothing after the first NUL.
  const char* name_field = reinterpret_cast<const char*>(m.data + kInitName);
  std::size_t name_len = 0;
  while (name_len < kNameSize && name_field[name_len] != '\0') ++name_len;
  for (std::size_t i = name_len; i < kNameSize; ++i) {
    if (name_field[i] != '\0') {
      r.drop = DropReason::malformed;
      return r;
    }
  }
  std::string name(name_field, name_len);
  auto it = by_name_.find(name);
  if (it == by_name_.end()) {
    r.drop = DropReason::handshake_unknown_peer;
    return r;
  }
  PeerState* st = peers_[it->second].get();
  std::uint8_t mac[kMacSize];
  keyed_hash(mac, kMacSize, st->mac_key.data(), SecretKey::kSize, {{m.data, kInitMac}});
  if (sodium_memcmp(mac, m.data + kInitMac, kMacSize) != 0) {
    r.drop = DropReason::unauthenticated;
    return r;
  }
  // Authenticated from here on (drops are attributed to the peer). Reserved bytes must be zero.
  r.peer = it->second;
  for (std::size_t i = kInitAeadOffer + 1; i < kInitName; ++i) {
    if (m[i] != 0) {
      r.drop = DropReason::malformed;
      return r;
    }
  }
  std::uint32_t sender = load_le32(m.data + kInitSender);
  std::uint64_t ts = load_le64(m.data + kInitTimestamp);
  if (sender == 0) {
    r.drop = DropReason::malformed;
    return r;
  }
  if (ts <= st->last_timestamp) {
    r.drop = DropReason::handshake_replay;
    return r;
  }
  if (st->have_last_initiation && now - st->last_initiation < kInitiationFloodInterval) {
    r.drop = DropReason::handshake_flood;
    return r;
  }
  AeadAlgorithm chosen{};
  if (!choose_aead(m[kInitAeadOffer], accepted_, &chosen)) {
    r.drop = DropReason::handshake_no_common_aead;
    return r;
  }
  if (reply.size < kPskResponseSize) {
    r.drop = DropReason::handshake_unsupported;
    return r;
  }
  st->last_timestamp = ts;
  st->have_last_initiation = true;
  st->last_initiation = now;

  std::uint8_t* out = reply.data;
  std::memset(out, 0, kPskResponseSize);
  out[0] = static_cast<std::uint8_t>(MessageType::psk_response);
  out[1] = kProtocolVersion;
  store_le32(out + kRespSender, local_index);
  store_le32(out + kRespReceiver, sender);
  randombytes_buf(out + kRespNonce, kNonceSize);
  out[kRespAead] = static_cast<std::uint8_t>(chosen);
  // The response MAC covers the whole initiation: the choice is bound to the offer.
  keyed_hash(out + kRespMac, kMacSize, st->mac_key.data(), SecretKey::kSize,
             {{m.data, kPskInitiationSize}, {out, kRespMac}});

  SessionKeys keys;
  derive_session(*this, st->kdf_key, m.data, out, false, &keys);
  keys.local_index = local_index;
  keys.remote_index = sender;
  keys.aead = chosen;
  r.peer = it->second;
  r.session = keys;
  r.reply_size = kPskResponseSize;
  return r;
}

HandshakeResult PskHandshaker::consume_response(PeerId peer, ConstBytes m, const Endpoint&, TimePoint) {
  HandshakeResult r;
  PeerState* st = find(peer);
  if (!st) {
    r.drop = DropReason::handshake_unknown_peer;
    return r;
  }
  if (m.size != kPskResponseSize || m[0] != static_cast<std::uint8_t>(MessageType::psk_response)) {
    r.drop = DropReason::malformed;
    return r;
  }
  std::uint32_t receiver = load_le32(m.data + kRespReceiver);
  if (!st->pending || receiver != st->pending_index) {
    r.drop = DropReason::handshake_unexpected;
    return r;
  }
  std::uint8_t mac[kMacSize];
  keyed_hash(mac, kMacSize, st->mac_key.data(), SecretKey::kSize,
             {{st->pending_message.data(), kPskInitiationSize}, {m.data, kRespMac}});
  if (sodium_memcmp(mac, m.data + kRespMac, kMacSize) != 0) {
    r.drop = DropReason::unauthenticated;
    return r;
  }
  for (std::size_t i = kRespAead + 1; i < kRespMac; ++i) {
    if (m[i] != 0) {
      r.drop = DropReason::malformed;
      return r;
    }
  }
  std::uint32_t sender = load_le32(m.data + kRespSender);
  auto chosen = static_cast<AeadAlgorithm>(m[kRespAead]);
  // The responder may only pick something we offered.
  if (sender == 0 || (m[kRespAead] != 1 && m[kRespAead] != 2) || !(accepted_ & aead_bit(chosen))) {
    r.drop = DropReason::malformed;
    return r;
  }
  SessionKeys keys;
  derive_session(*this, st->kdf_key, st->pending_message.data(), m.data, true, &keys);
  keys.local_index = st->pending_index;
  keys.remote_index = sender;
  keys.aead = chosen;
  st->pending = false;
  sodium_memzero(st->pending_message.data(), st->pending_message.size());
  r.peer = peer;
  r.session = keys;
  return r;
}

}  // namespace segbridge::core
