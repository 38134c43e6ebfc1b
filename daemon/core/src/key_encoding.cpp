#include "segbridge/core/key_encoding.hpp"

#include <sodium.h>

#include <cctype>
#include <string>

namespace segbridge::core {

std::string encode_key_base64(const SecretKey& key) {
  char out[sodium_base64_ENCODED_LEN(SecretKey::kSize, sodium_base64_VARIANT_ORIGINAL)];
  sodium_bin2base64(out, sizeof out, key.data(), SecretKey::kSize, sodium_base64_VARIANT_ORIGINAL);
  std::string s(out);
  sodium_memzero(out, sizeof out);
  return s;
}

std::optional<SecretKey> decode_key_base64(std::string_view text, std::string* error) {
  auto fail = [&](const char* why) -> std::optional<SecretKey> {
    if (error) *error = why;
    return std::nullopt;
  };
  // Strip all ASCII whitespace (line breaks, trailing newline, indentation).
  std::string compact;
  compact.reserve(text.size());
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    compact.push_back(c);
  }
  if (compact.empty()) return fail("key is empty");
  // 32 bytes are 44 base64 characters with one '=' of padding.
  if (compact.size() != 44) {
    sodium_memzero(compact.data(), compact.size());
    return fail("key must be 32 bytes encoded as 44 base64 characters (use `segbridged genkey`)");
  }
  std::uint8_t bytes[SecretKey::kSize + 1];
  std::size_t len = 0;
  const char* end = nullptr;
  int rc = sodium_base642bin(bytes, sizeof bytes, compact.data(), compact.size(), nullptr, &len, &end,
                             sodium_base64_VARIANT_ORIGINAL);
  bool complete = end == compact.data() + compact.size();
  sodium_memzero(compact.data(), compact.size());
  if (rc != 0 || !complete) {
    sodium_memzero(bytes, sizeof bytes);
    return fail("key is not valid base64");
  }
  if (len != SecretKey::kSize) {
    sodium_memzero(bytes, sizeof bytes);
    return fail("key must decode to exactly 32 bytes");
  }
  SecretKey key(bytes);
  sodium_memzero(bytes, sizeof bytes);
  return key;
}

std::string generate_key_base64() {
  return encode_key_base64(SecretKey::random());
}

}  // namespace segbridge::core
