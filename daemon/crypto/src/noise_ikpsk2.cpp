#include "segbridge/crypto/noise_ikpsk2.hpp"

#include <algorithm>

namespace segbridge::crypto {
namespace {

// Mixes DH(priv, pub) into the key; false if the DH output is all zeros.
bool mix_dh(SymmetricState& sym, const WipedKey& priv, const PublicKey& pub) {
  WipedKey shared;
  if (!x25519(priv.data(), pub, shared)) return false;
  sym.mix_key(shared.data(), shared.size());
  return true;
}

TransportKeys split_keys(const SymmetricState& sym, bool initiator) {
  TransportKeys keys;
  WipedKey k1, k2;
  sym.split(k1, k2);
  keys.send = initiator ? k1 : k2;
  keys.receive = initiator ? k2 : k1;
  keys.handshake_hash = sym.handshake_hash();
  return keys;
}

}  // namespace

IkPsk2Initiator::IkPsk2Initiator(std::string_view protocol_name, const std::uint8_t* prologue, std::size_t prologue_len,
                                 const std::uint8_t static_private[kKeySize], const PublicKey& responder_static,
                                 const std::uint8_t psk[kKeySize], const std::uint8_t ephemeral_private[kKeySize])
    : sym_(protocol_name), s_(static_private), rs_(responder_static), e_(ephemeral_private), psk_(psk) {
  s_pub_ = x25519_public_key(s_.data());
  e_pub_ = x25519_public_key(e_.data());
  sym_.mix_hash(prologue, prologue_len);
  sym_.mix_hash(rs_.data(), rs_.size());  // pre-message: <- s
}

bool IkPsk2Initiator::write_message1(const std::uint8_t* payload, std::size_t payload_len, std::uint8_t* out) {
  // e (with a PSK in the pattern, e is also mixed into the key)
  std::copy(e_pub_.begin(), e_pub_.end(), out);
  sym_.mix_hash(e_pub_.data(), e_pub_.size());
  sym_.mix_key(e_pub_.data(), e_pub_.size());
  // es
  if (!mix_dh(sym_, e_, rs_)) return false;
  // s
  sym_.encrypt_and_hash(s_pub_.data(), s_pub_.size(), out + 32);
  // ss
  if (!mix_dh(sym_, s_, rs_)) return false;
  sym_.encrypt_and_hash(payload, payload_len, out + 32 + 32 + kAeadTagSize);
  return true;
}

bool IkPsk2Initiator::read_message2(const std::uint8_t* message, std::size_t len, std::uint8_t* payload_out) {
  if (len < kIkMessage2Overhead) return false;
  PublicKey re{};
  std::copy(message, message + 32, re.begin());
  sym_.mix_hash(re.data(), re.size());
  sym_.mix_key(re.data(), re.size());
  if (!mix_dh(sym_, e_, re)) return false;  // ee
  if (!mix_dh(sym_, s_, re)) return false;  // se
  sym_.mix_key_and_hash(psk_.data(), psk_.size());
  return sym_.decrypt_and_hash(message + 32, len - 32, payload_out);
}

TransportKeys IkPsk2Initiator::split() {
  TransportKeys keys = split_keys(sym_, true);
  wipe();
  return keys;
}

void IkPsk2Initiator::wipe() {
  sym_.wipe();
  s_.wipe();
  e_.wipe();
  psk_.wipe();
}

IkPsk2Responder::IkPsk2Responder(std::string_view protocol_name, const std::uint8_t* prologue, std::size_t prologue_len,
                                 const std::uint8_t static_private[kKeySize])
    : sym_(protocol_name), s_(static_private) {
  const PublicKey s_pub = x25519_public_key(s_.data());
  sym_.mix_hash(prologue, prologue_len);
  sym_.mix_hash(s_pub.data(), s_pub.size());  // pre-message: <- s
}

bool IkPsk2Responder::read_message1(const std::uint8_t* message, std::size_t len, std::uint8_t* payload_out) {
  if (len < kIkMessage1Overhead) return false;
  std::copy(message, message + 32, re_.begin());
  sym_.mix_hash(re_.data(), re_.size());
  sym_.mix_key(re_.data(), re_.size());
  if (!mix_dh(sym_, s_, re_)) return false;  // es
  if (!sym_.decrypt_and_hash(message + 32, 32 + kAeadTagSize, rs_.data())) return false;
  if (!mix_dh(sym_, s_, rs_)) return false;  // ss
  return sym_.decrypt_and_hash(message + 32 + 32 + kAeadTagSize, len - (32 + 32 + kAeadTagSize), payload_out);
}

bool IkPsk2Responder::write_message2(const std::uint8_t psk[kKeySize], const std::uint8_t ephemeral_private[kKeySize],
                                     const std::uint8_t* payload, std::size_t payload_len, std::uint8_t* out) {
  const WipedKey e(ephemeral_private);
  const PublicKey e_pub = x25519_public_key(e.data());
  std::copy(e_pub.begin(), e_pub.end(), out);
  sym_.mix_hash(e_pub.data(), e_pub.size());
  sym_.mix_key(e_pub.data(), e_pub.size());
  if (!mix_dh(sym_, e, re_)) return false;  // ee
  if (!mix_dh(sym_, e, rs_)) return false;  // se
  sym_.mix_key_and_hash(psk, kKeySize);
  sym_.encrypt_and_hash(payload, payload_len, out + 32);
  return true;
}

TransportKeys IkPsk2Responder::split() {
  TransportKeys keys = split_keys(sym_, false);
  wipe();
  return keys;
}

void IkPsk2Responder::wipe() {
  sym_.wipe();
  s_.wipe();
}

}  // namespace segbridge::crypto
