#include "key_file.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "segbridge/core/key_encoding.hpp"
#include "segbridge/unique_fd.hpp"

namespace segbridge::daemon {

std::optional<core::SecretKey> read_key_file(const std::string& path, std::string& error) {
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
  std::string why;
  auto key = core::decode_key_base64(std::string_view(buf, static_cast<std::size_t>(n)), &why);
  sodium_memzero(buf, sizeof buf);
  if (!key) {
    error = "key file '" + path + "': " + why + " (make one with 'segbridged genkey')";
  }
  return key;
}

}  // namespace segbridge::daemon
