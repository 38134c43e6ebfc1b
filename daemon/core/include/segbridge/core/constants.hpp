#pragma once
// Every protocol constant in one place, named as in docs/PROTOCOL.md (timer
// values are WireGuard's, see TUNNEL-NOTES §1.1).
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace segbridge::core {

using namespace std::chrono_literals;
using Duration = std::chrono::nanoseconds;

inline constexpr std::uint8_t kProtocolVersion = 1;

// ---- sizes (bytes) ----
inline constexpr std::size_t kDataHeaderSize = 20;  // type..reserved, see wire_format.hpp
inline constexpr std::size_t kAeadTagSize = 16;
inline constexpr std::size_t kDataOverhead = kDataHeaderSize + kAeadTagSize;  // 36
inline constexpr std::size_t kKeepaliveSize = kDataOverhead;
inline constexpr std::size_t kIpv4HeaderSize = 20;
inline constexpr std::size_t kIpv6HeaderSize = 40;
inline constexpr std::size_t kUdpHeaderSize = 8;
inline constexpr std::size_t kMaxFrameSize = 9018;  // jumbo 9000 + 14 Ethernet + 4 802.1Q
inline constexpr std::size_t kMinFrameSize = 14;    // an Ethernet header
inline constexpr std::size_t kMaxFragments = 16;    // per frame (nibble-free u8 fields, capped)
inline constexpr unsigned kMinPathMtu = 1280;       // IPv6 minimum; keeps fragment counts bounded
inline constexpr unsigned kMaxPathMtu = 65535;
inline constexpr std::size_t kMaxDatagramSize = 65507;

inline constexpr std::size_t kPskInitiationSize = 84;
inline constexpr std::size_t kPskResponseSize = 64;
inline constexpr std::size_t kNoiseInitiationSize = 148;
inline constexpr std::size_t kNoiseResponseSize = 92;
inline constexpr std::size_t kCookieReplySize = 64;

// ---- replay protection (RFC 6479, 128 blocks of 64 bits) ----
inline constexpr std::size_t kReplayBlockBits = 64;
inline constexpr std::size_t kReplayBlocks = 128;
inline constexpr std::uint64_t kReplayWindowSize = (kReplayBlocks - 1) * kReplayBlockBits;  // 8128

// ---- key lifetime ----
inline constexpr std::uint64_t kRekeyAfterMessages = 1ull << 60;
inline constexpr std::uint64_t kRejectAfterMessages = ~0ull - kReplayWindowSize - 1;
inline constexpr Duration kRekeyAfterTime = 120s;
inline constexpr Duration kRejectAfterTime = 180s;
inline constexpr Duration kRekeyAttemptTime = 90s;
inline constexpr Duration kRekeyTimeout = 5s;
inline constexpr Duration kKeepaliveTimeout = 10s;
// Replaced sessions still accepted (until REJECT_AFTER_TIME) for packets in
// flight. WireGuard keeps one; a few more cover a retried handshake whose
// superseded session was never used, queued behind newer traffic.
inline constexpr std::size_t kMaxRetiredSessions = 3;
// Initiator-side receive rekey: REJECT_AFTER_TIME - KEEPALIVE_TIMEOUT - REKEY_TIMEOUT.
inline constexpr Duration kRekeyOnReceiveAge = kRejectAfterTime - kKeepaliveTimeout - kRekeyTimeout;  // 165 s

// ---- handshake retry: fast first retries (a restarted spoke must carry traffic
// within 3 s), exponential backoff capped at REKEY_TIMEOUT, plus jitter so
// many peers never retry in lockstep (tinc #195). ----
inline constexpr Duration kHandshakeRetryInitial = 1s;
inline constexpr Duration kHandshakeRetryMax = kRekeyTimeout;
inline constexpr Duration kHandshakeRetryJitter = 333ms;
// Initiations from one peer closer together than this are floods (wireguard-go 1s/50).
inline constexpr Duration kInitiationFloodInterval = 20ms;

// ---- reassembly (TUNNEL-NOTES §3.2.6) ----
inline constexpr std::size_t kReassemblySlots = 64;  // partial frames per peer
inline constexpr Duration kReassemblyTimeout = 1s;
// How often the RX path sweeps a peer's partial frames for timeouts (besides
// the lazy check whenever a new frame needs a slot).
inline constexpr Duration kReassemblySweepInterval = 250ms;

}  // namespace segbridge::core
