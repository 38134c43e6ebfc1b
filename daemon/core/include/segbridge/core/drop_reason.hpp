#pragma once
// Why a datagram or frame was not delivered. Every drop is counted under one
// of these (segbridgectl status "drops"); the names are stable for JSON.
#include <cstddef>
#include <cstdint>

#include "segbridge/core/wire_format.hpp"

namespace segbridge::core {

enum class DropReason : std::uint8_t {
  none = 0,
  malformed,               // failed strict decoding (see DecodeError)
  unknown_index,           // receiver index names no live session / pending handshake
  unauthenticated,         // AEAD tag or handshake MAC did not verify
  replay,                  // counter already seen or left of the replay window
  expired_session,         // session past REJECT_AFTER_TIME / REJECT_AFTER_MESSAGES
  handshake_replay,        // initiation timestamp not newer than the last accepted
  handshake_flood,         // initiations too close together
  handshake_unknown_peer,  // initiation names no configured peer
  handshake_unexpected,    // response/cookie with no matching initiation in flight
  handshake_unsupported,   // message type the configured handshake does not speak
  handshake_no_common_aead,
  reassembly_timeout,         // partial frame older than kReassemblyTimeout
  reassembly_evicted,         // partial frame evicted to admit a newer one
  fragment_duplicate,         // a fragment already held
  fragment_inconsistent,      // fragment disagrees with the frame it belongs to
  frame_too_large,            // TX: frame > kMaxFrameSize or > kMaxFragments pieces
  frame_too_small,            // TX: frame < kMinFrameSize
  no_session,                 // TX: no usable session (a handshake was requested)
  no_endpoint,                // TX: peer address unknown (hub waits for the spoke)
  batch_full,                 // TX: the output batch had no room
  handshake_cookie_required,  // Noise under load: no valid mac2, answered with a cookie reply
  handshake_rate_limited,     // Noise under load: the source exceeded its handshake rate
  count_
};
inline constexpr std::size_t kDropReasonCount = static_cast<std::size_t>(DropReason::count_);
const char* to_string(DropReason r);

}  // namespace segbridge::core
