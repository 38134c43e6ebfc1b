#pragma once
// The known-answer scenario for segbridge's Noise IK handshake: fixed static
// keys, PSK, clock and a deterministic random source (ephemerals, indices,
// cookie secret and nonce), run through the real NoiseHandshake engines.
// Its output is checked in (vectors/noise_ik_v1.txt); any change to the
// construction, labels, prologue, layout or KDF changes these bytes.
// Regenerate only for an intentional protocol change (and bump kWireVersion):
//   build/tests/unit/daemon/security/noise_vector_gen > tests/unit/daemon/security/vectors/noise_ik_v1.txt
#include <string>
#include <utility>
#include <vector>

namespace segbridge::crypto::test {

using VectorEntries = std::vector<std::pair<std::string, std::string>>;  // name, lowercase hex

VectorEntries generate_noise_vectors();
std::string format_vectors(const VectorEntries& entries);
VectorEntries parse_vectors(const std::string& text);

}  // namespace segbridge::crypto::test
