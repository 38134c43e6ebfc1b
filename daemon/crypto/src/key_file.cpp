#include "segbridge/crypto/key_file.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <istream>
#include <ostream>

#include "segbridge/crypto/sodium.hpp"

namespace segbridge::crypto {
namespace {

constexpr std::size_t kBase64KeyLength = 44;  // sodium_base64_ENCODED_LEN(32, ORIGINAL) - 1

std::string_view trim(std::string_view s) {
  const char* ws = " \t\r\n";
  const auto b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

bool decode_key(std::string_view text, std::uint8_t out[kKeySize]) {
  ensure_sodium();
  text = trim(text);
  if (text.size() != kBase64KeyLength) return false;
  std::size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out, kKeySize, text.data(), text.size(), nullptr, &len, &end, sodium_base64_VARIANT_ORIGINAL) !=
      0) {
    return false;
  }
  return len == kKeySize && end == text.data() + text.size();
}

std::string octal(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

}  // namespace

std::string key_to_base64(const std::uint8_t key[kKeySize]) {
  ensure_sodium();
  char buf[sodium_base64_ENCODED_LEN(kKeySize, sodium_base64_VARIANT_ORIGINAL)];
  sodium_bin2base64(buf, sizeof buf, key, kKeySize, sodium_base64_VARIANT_ORIGINAL);
  std::string s(buf);
  sodium_memzero(buf, sizeof buf);
  return s;
}

std::optional<SecretKey> secret_key_from_base64(std::string_view text) {
  SecretKey key;
  if (!decode_key(text, key.data())) return std::nullopt;
  return key;
}

std::optional<PublicKey> public_key_from_base64(std::string_view text) {
  PublicKey key{};
  if (!decode_key(text, key.data())) return std::nullopt;
  return key;
}

SecretKey load_key_file(const std::string& path, std::string_view what, KeyFilePolicy policy) {
  const std::string subject = std::string(what) + " file " + path;
  // O_NOFOLLOW: a symlink could point anywhere; the checks below are made on
  // the opened descriptor so the file cannot be swapped between check and read.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    const int e = errno;
    if (e == ELOOP) throw KeyFileError(subject + ": is a symbolic link; point the config at the file itself");
    throw KeyFileError("cannot open " + subject + ": " + std::strerror(e));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw KeyFileError(subject + ": fstat: " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) throw KeyFileError(subject + ": not a regular file");
  if (st.st_uid != policy.expected_owner) {
    throw KeyFileError(
        subject + ": owned by uid " + std::to_string(st.st_uid) + ", must be owned by " +
        (policy.expected_owner == 0 ? std::string("root") : "uid " + std::to_string(policy.expected_owner)) +
        " (chown root " + path + ")");
  }
  if ((st.st_mode & 077) != 0) {  // any group or other permission
    throw KeyFileError(subject + ": mode " + octal(st.st_mode) +
                       " lets others read or change the key; it must be 0600 (chmod 600 " + path + ")");
  }
  // A key line is 44 characters; allow whitespace and a newline, refuse more.
  char buf[128];
  std::size_t used = 0;
  for (;;) {
    const ssize_t n = ::read(fd, buf + used, sizeof buf - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      sodium_memzero(buf, sizeof buf);
      throw KeyFileError(subject + ": read: " + std::strerror(errno));
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
    if (used == sizeof buf) {
      sodium_memzero(buf, sizeof buf);
      throw KeyFileError(subject + ": too large to be a key (expected one base64 line from `segbridged genkey`)");
    }
  }
  auto key = secret_key_from_base64(std::string_view(buf, used));
  sodium_memzero(buf, sizeof buf);
  if (!key) {
    throw KeyFileError(subject + ": not a base64 32-byte key (expected one line from `segbridged genkey`)");
  }
  return std::move(*key);
}

std::string generate_private_key_base64() {
  SecretKey key;
  x25519_generate(key.data());
  return key_to_base64(key.data());
}

int run_pubkey(std::istream& in, std::ostream& out, std::ostream& err) {
  std::string line;
  char c;
  while (line.size() < 256 && in.get(c)) line.push_back(c);
  auto key = secret_key_from_base64(line);
  sodium_memzero(line.data(), line.size());
  if (!key) {
    err << "segbridged pubkey: standard input is not a base64 32-byte private key\n";
    return 1;
  }
  const PublicKey pub = x25519_public_key(key->data());
  out << key_to_base64(pub.data()) << '\n';
  return 0;
}

}  // namespace segbridge::crypto
