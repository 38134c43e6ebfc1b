#include "segbridge/core/drop_reason.hpp"

namespace segbridge::core {

const char* to_string(DropReason r) {
  switch (r) {
    case DropReason::none:
      return "none";
    case DropReason::malformed:
      return "malformed";
    case DropReason::unknown_index:
      return "unknown_index";
    case DropReason::unauthenticated:
      return "unauthenticated";
    case DropReason::replay:
      return "replay";
    case DropReason::expired_session:
      return "expired_session";
    case DropReason::handshake_replay:
      return "handshake_replay";
    case DropReason::handshake_flood:
      return "handshake_flood";
    case DropReason::handshake_unknown_peer:
      return "handshake_unknown_peer";
    case DropReason::handshake_unexpected:
      return "handshake_unexpected";
    case DropReason::handshake_unsupported:
      return "handshake_unsupported";
    case DropReason::handshake_no_common_aead:
      return "handshake_no_common_aead";
    case DropReason::reassembly_timeout:
      return "reassembly_timeout";
    case DropReason::reassembly_evicted:
      return "reassembly_evicted";
    case DropReason::fragment_duplicate:
      return "fragment_duplicate";
    case DropReason::fragment_inconsistent:
      return "fragment_inconsistent";
    case DropReason::frame_too_large:
      return "frame_too_large";
    case DropReason::frame_too_small:
      return "frame_too_small";
    case DropReason::no_session:
      return "no_session";
    case DropReason::no_endpoint:
      return "no_endpoint";
    case DropReason::batch_full:
      return "batch_full";
    case DropReason::handshake_cookie_required:
      return "handshake_cookie_required";
    case DropReason::handshake_rate_limited:
      return "handshake_rate_limited";
    case DropReason::count_:
      break;
  }
  return "unknown";
}

}  // namespace segbridge::core
