#pragma once
// Site keys on disk: one base64 line (44 characters, like WireGuard's key
// files) holding a 32-byte X25519 private key or PSK. This is the only file
// of segbridge_crypto that performs I/O.
//
// A key file is accepted only if it is a regular file (not a symlink), owned
// by root (or `expected_owner` in tests) and readable by its owner only
// (no group or other permission bits: 0600, 0400); anything else is refused
// with a message saying what to run to fix it. Keys are decoded straight into locked memory.
#include <sys/types.h>
#include <iosfwd>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "segbridge/crypto/secret.hpp"
#include "segbridge/crypto/x25519.hpp"

namespace segbridge::crypto {

class KeyFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct KeyFilePolicy {
  uid_t expected_owner = 0;  // root
};

// Base64 (standard alphabet, padded) of exactly 32 bytes.
std::string key_to_base64(const std::uint8_t key[kKeySize]);
// Decodes one key, ignoring surrounding whitespace; nothing if it is not
// exactly 32 bytes of valid base64.
std::optional<SecretKey> secret_key_from_base64(std::string_view text);
std::optional<PublicKey> public_key_from_base64(std::string_view text);

// Reads a private key or PSK file, enforcing the policy above.
// `what` names the key in messages ("private key", "PSK").
SecretKey load_key_file(const std::string& path, std::string_view what, KeyFilePolicy policy = {});

// `segbridged genkey`: a new random X25519 private key (clamped), base64.
std::string generate_private_key_base64();
// `segbridged pubkey`: reads a base64 private key from `in`, writes the
// public key to `out`. Returns the process exit code; errors go to `err`.
int run_pubkey(std::istream& in, std::ostream& out, std::ostream& err);

}  // namespace segbridge::crypto
