#include "segbridge/core/handshake.hpp"

namespace segbridge::core {

HandshakeResult Handshaker::consume_cookie_reply(PeerId, ConstBytes, TimePoint) {
  HandshakeResult r;
  r.drop = DropReason::handshake_unsupported;
  return r;
}

}  // namespace segbridge::core
