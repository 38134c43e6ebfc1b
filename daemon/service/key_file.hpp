#pragma once
// Key files: one line of base64 holding a 32-byte key (`segbridged genkey`):
// PSKs and the Noise IK private key. The file rules (regular file, no
// symlink, owned by the daemon's user = root, no group/other access) are
// segbridge_crypto's load_key_file (docs/SECURITY.md §2.3).
#include <optional>
#include <string>

#include "segbridge/core/secret_key.hpp"

namespace segbridge::daemon {

// Reads and decodes `path`. nullopt + a one-line reason (never key material)
// on failure. Keys read successfully are remembered: once the daemon has
// dropped root (docs/SECURITY.md), a SIGHUP reload gets known key files from
// memory, and a new key file is an error that asks for a restart.
std::optional<core::SecretKey> read_key_file(const std::string& path, std::string& error);

}  // namespace segbridge::daemon
