// Fuzzes the handshake consumer (initiation / response / cookie reply) of
// NoiseHandshake with arbitrary bytes.
//
// Input: one flag byte, then the packet.
//   bit 0: recompute mac1 (anyone can: it is keyed by a public key), so the
//          fuzzer reaches the DH / AEAD / timestamp code instead of stopping at mac1
//   bit 1: the receiver is under load (mac2, cookie replies, rate limiter)
//   bit 2: deliver to the spoke, which has an initiation in flight, instead of the hub
//   bit 3: overwrite the receiver index with the one the spoke has in flight
// Invariants checked: never a reply larger than the packet that provoked it,
// never a session without a reply or key material, no crash or sanitizer error.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "segbridge/crypto/cookie.hpp"
#include "segbridge/crypto/noise_handshake.hpp"

namespace {

using namespace segbridge::crypto;

constexpr std::uint8_t kSpokeStatic[32] = {0xa8, 0xb1, 0xc2, 0xd3, 0xe4, 0xf5, 0x06, 0x17, 0x28, 0x39, 0x4a,
                                           0x5b, 0x6c, 0x7d, 0x8e, 0x9f, 0xa0, 0xb1, 0xc2, 0xd3, 0xe4, 0xf5,
                                           0x06, 0x17, 0x28, 0x39, 0x4a, 0x5b, 0x6c, 0x7d, 0x8e, 0x5f};
constexpr std::uint8_t kHubStatic[32] = {0x58, 0xe6, 0xf7, 0xa8, 0xb9, 0xca, 0xdb, 0xec, 0xfd, 0x0e, 0x1f,
                                         0x20, 0x31, 0x42, 0x53, 0x64, 0x75, 0x86, 0x97, 0xa8, 0xb9, 0xca,
                                         0xdb, 0xec, 0xfd, 0x0e, 0x1f, 0x20, 0x31, 0x42, 0x53, 0x7f};

// Same keys and PSK as the known-answer vectors, so those messages make a
// meaningful seed corpus.
constexpr std::uint8_t kPsk[32] = {'s', 'e', 'g', 'b', 'r', 'i', 'd', 'g', 'e', ' ', 'p', 'r', 'e', 's', 'h', 'a',
                                   'r', 'e', 'd', ' ', 's', 'e', 'c', 'r', 'e', 't', ' ', 'k', 'e', 'y', '!', '!'};

void abort_if(bool bad) {
  if (bad) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t flags = data[0];
  std::vector<std::uint8_t> packet(data + 1, data + size);

  SodiumRandom random;
  NoiseHandshake hub(SecretKey(kHubStatic), {}, random);
  NoiseHandshake spoke(SecretKey(kSpokeStatic), {}, random);
  hub.add_peer(2, spoke.public_key(), SecretKey(kPsk));
  spoke.add_peer(1, hub.public_key(), SecretKey(kPsk));

  const Instant now = Instant{} + std::chrono::seconds(1000);
  const WallTime wall = WallTime{} + std::chrono::seconds(1767225600);
  std::uint8_t init[kInitiationSize];
  const auto in_flight = spoke.create_initiation(1, now, wall, init);
  abort_if(!in_flight);

  const bool to_spoke = flags & 4;
  NoiseHandshake& target = to_spoke ? spoke : hub;
  if (flags & 2) target.load().force(true);
  if ((flags & 8) && packet.size() >= 12) {
    const std::size_t at = packet.size() == kResponseSize ? response::receiver : cookie_reply::receiver;
    write_le32(packet.data() + at, *in_flight);
  }
  if ((flags & 1) && (packet.size() == kInitiationSize || packet.size() == kResponseSize)) {
    CookieGenerator stamp(target.public_key());
    stamp.add_macs(packet.data(), packet.size(), now);
  }

  const auto from = SourceAddress::v4(192, 0, 2, 2, 40000);
  const HandshakeOutcome out = target.consume(packet.data(), packet.size(), from, now);
  abort_if(out.reply_len > packet.size());
  switch (out.kind) {
    case HandshakeOutcome::Kind::initiation_accepted:
      abort_if(!out.session || out.reply_len != kResponseSize || out.session->send_key.is_zero());
      break;
    case HandshakeOutcome::Kind::response_accepted:
      abort_if(!out.session || out.reply_len != 0 || out.session->receive_key.is_zero());
      break;
    case HandshakeOutcome::Kind::send_cookie_reply:
      abort_if(out.reply_len != kCookieReplySize || out.session.has_value());
      break;
    case HandshakeOutcome::Kind::dropped:
    case HandshakeOutcome::Kind::cookie_accepted:
      abort_if(out.reply_len != 0 || out.session.has_value());
      break;
  }
  return 0;
}
