#pragma once
// Base64 (standard alphabet, padded) for 32-byte keys: `segbridged genkey`
// output and PSK / key files. Parsing tolerates surrounding whitespace and
// line breaks, rejects anything that is not exactly 32 bytes of key.
#include <optional>
#include <string>
#include <string_view>

#include "segbridge/core/secret_key.hpp"

namespace segbridge::core {

std::string encode_key_base64(const SecretKey& key);
// nullopt with a one-line reason in *error (never containing key material).
std::optional<SecretKey> decode_key_base64(std::string_view text, std::string* error);
// A new random key, base64, no newline (what `segbridged genkey` prints).
std::string generate_key_base64();

}  // namespace segbridge::core
