#pragma once
// 32-byte keys stored as one line of base64 (`segbridged genkey`): the PSK
// now, an X25519 private key in the Noise work.
#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace segbridge::daemon {

using Key32 = std::array<std::uint8_t, 32>;

// A fresh random key, base64 (standard alphabet, padded): 44 characters.
std::string generate_key_base64();

// Decodes one base64 key; surrounding whitespace is ignored.
std::optional<Key32> decode_key_base64(const std::string& text);

// Reads and decodes `path`. Refuses files other users can read or write
// (a leaked PSK lets anyone join the segment). nullopt + error on failure.
std::optional<Key32> read_key_file(const std::string& path, std::string& error);

}  // namespace segbridge::daemon
