#include "key_file.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "segbridge/unique_fd.hpp"

namespace segbridge::daemon {

std::string generate_key_base64() {
  Key32 key;
  randombytes_buf(key.data(), key.size());
  char out[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
  sodium_bin2base64(out, sizeof out, key.data(), key.size(), sodium_base64_VARIANT_ORIGINAL);
  sodium_memzero(key.data(), key.size());
  std::string s(out);
  sodium_memzero(out, sizeof out);
  return s;
}

std::optional<Key32> decode_key_base64(const std::string& text) {
  std::size_t b = text.find_first_not_of(" \t\r\n");
  std::size_t e = text.find_last_not_of(" \t\r\n");
  if (b == std::string::npos) return std::nullopt;
  std::string trimmed = text.substr(b, e - b + 1);
  Key32 key;
  std::size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(key.data(), key.size(), trimmed.data(), trimmed.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      len != key.size() || end != trimmed.data() + trimmed.size()) {
    sodium_memzero(trimmed.data(), trimmed.size());
    return std::nullopt;
  }
  sodium_memzero(trimmed.data(), trimmed.size());
  return key;
}

std::optional<Key32> read_key_file(const std::string& path, std::string& error) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) {
    error = "cannot open key file '" + path + "': " + std::strerror(errno);
    return std::nullopt;
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    error = "key file '" + path + "' is not a regular file";
    return std::nullopt;
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    error = "key file '" + path + "' is accessible by other users (chmod 600 it)";
    return std::nullopt;
  }
  char buf[256];
  ssize_t n = ::read(fd.get(), buf, sizeof buf);
  if (n < 0) {
    error = "cannot read key file '" + path + "': " + std::strerror(errno);
    return std::nullopt;
  }
  std::string text(buf, static_cast<std::size_t>(n));
  sodium_memzero(buf, sizeof buf);
  auto key = decode_key_base64(text);
  sodium_memzero(text.data(), text.size());
  if (!key) error = "key file '" + path + "' does not hold one base64 32-byte key (make one with 'segbridged genkey')";
  return key;
}

}  // namespace segbridge::daemon
