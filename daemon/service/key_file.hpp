#pragma once
// Key files: one line of base64 holding a 32-byte key (`segbridged genkey`),
// the PSK now, an X25519 private key in the Noise work. The encoding itself
// is the core's (segbridge/core/key_encoding.hpp); this adds the file rules.
#include <optional>
#include <string>

#include "segbridge/core/secret_key.hpp"

namespace segbridge::daemon {

// Reads and decodes `path`. Refuses files other users can read or write (a
// leaked PSK lets anyone join the segment), symlinks and non-regular files.
// nullopt + a one-line reason (never key material) on failure.
std::optional<core::SecretKey> read_key_file(const std::string& path, std::string& error);

}  // namespace segbridge::daemon
