// The PSK handshake parsers past their MAC check: the harness knows the PSK,
// so it can MAC arbitrary field values (reserved bytes, indices, timestamps,
// AEAD offers/choices, names) and reach the checks behind authentication.
// Byte 0 picks the mode: 0 raw initiation, 1 MACed initiation, 2 raw response,
// 3 MACed response (to a real pending initiation). Invariants: a rejection
// writes no reply; an accepted response only picks an offered AEAD.
#include <sodium.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "segbridge/core/psk_handshake.hpp"

using namespace segbridge::core;
using namespace segbridge::core::psk_layout;

namespace {
const TimePoint kNow = TimePoint(std::chrono::hours(2));
const Endpoint kFrom = *Endpoint::parse("192.0.2.5:1000");

SecretKey fixed_psk() {
  std::uint8_t b[32];
  for (int i = 0; i < 32; ++i) b[i] = static_cast<std::uint8_t>(i * 3);
  return SecretKey(b);
}

void mac(const SecretKey& psk, const std::vector<std::uint8_t>& prefix, std::uint8_t* msg, std::size_t mac_at) {
  // K_mac as in docs/PROTOCOL.md §3.2, computed independently of the code under test.
  static const char kLabel[] = "segbridge psk v1 mac key";
  std::uint8_t kmac[32];
  crypto_generichash(kmac, 32, reinterpret_cast<const std::uint8_t*>(kLabel), sizeof kLabel - 1, psk.data(), 32);
  crypto_generichash_state st;
  crypto_generichash_init(&st, kmac, 32, kMacSize);
  if (!prefix.empty()) crypto_generichash_update(&st, prefix.data(), prefix.size());
  crypto_generichash_update(&st, msg, mac_at);
  crypto_generichash_final(&st, msg + mac_at, kMacSize);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (sodium_init() < 0) std::abort();
  if (size < 1) return 0;
  SecretKey psk = fixed_psk();
  std::uint64_t wall = 1000;
  PskHandshaker hub("hub", locally_available_aeads(), [&] { return wall; });
  PskHandshaker spoke("sitea", locally_available_aeads(), [&] { return ++wall; });
  if (!hub.add_peer(1, {"sitea", psk, std::nullopt}).empty()) std::abort();
  if (!spoke.add_peer(1, {"hub", psk, std::nullopt}).empty()) std::abort();
  const std::uint8_t mode = data[0] % 4;
  ++data;
  --size;
  std::vector<std::uint8_t> reply(kPskResponseSize, 0);
  if (mode <= 1) {
    std::vector<std::uint8_t> m(kPskInitiationSize, 0);
    std::memcpy(m.data(), data, std::min(size, m.size()));
    if (mode == 1) {
      m[0] = static_cast<std::uint8_t>(MessageType::psk_initiation);
      m[1] = kProtocolVersion;
      if (size < 20) std::memcpy(m.data() + kInitName, "sitea", 5);  // small inputs: reach past the name lookup
      mac(psk, {}, m.data(), kInitMac);
    }
    auto r = hub.consume_initiation(ConstBytes(m.data(), m.size()), kFrom, kNow, 77, false,
                                    MutableBytes(reply.data(), reply.size()));
    if (r.drop != DropReason::none && (r.reply_size != 0 || r.session)) std::abort();
    if (r.drop == DropReason::none && (!r.session || r.reply_size != kPskResponseSize)) std::abort();
  } else {
    std::vector<std::uint8_t> init(kPskInitiationSize);
    auto c = spoke.create_initiation(1, 4242, kNow, MutableBytes(init.data(), init.size()));
    if (c.drop != DropReason::none) std::abort();
    std::vector<std::uint8_t> m(kPskResponseSize, 0);
    std::memcpy(m.data(), data, std::min(size, m.size()));
    if (mode == 3) {
      m[0] = static_cast<std::uint8_t>(MessageType::psk_response);
      m[1] = kProtocolVersion;
      store_le32(m.data() + kRespReceiver, 4242);
      mac(psk, init, m.data(), kRespMac);
    }
    auto r = spoke.consume_response(1, ConstBytes(m.data(), m.size()), kFrom, kNow);
    if (r.drop == DropReason::none) {
      if (!r.session || !(locally_available_aeads() & aead_bit(r.session->aead))) std::abort();
      if (r.session->local_index != 4242 || r.session->remote_index == 0) std::abort();
    } else if (r.session) {
      std::abort();
    }
  }
  return 0;
}
