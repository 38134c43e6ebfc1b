#include "key_file.hpp"

#include <unistd.h>

#include <map>
#include <mutex>

#include "segbridge/crypto/key_file.hpp"

namespace segbridge::daemon {
namespace {

// The user the daemon started as (root in production): key files must be its.
const uid_t kOwner = ::geteuid();

std::mutex cache_mutex;
std::map<std::string, core::SecretKey>& cache() {
  static std::map<std::string, core::SecretKey> keys;  // wiped by ~SecretKey at exit
  return keys;
}

}  // namespace

std::optional<core::SecretKey> read_key_file(const std::string& path, std::string& error) {
  std::lock_guard<std::mutex> lock(cache_mutex);
  if (::geteuid() != kOwner) {
    // Privileges were dropped: the file is root's and no longer readable.
    auto it = cache().find(path);
    if (it != cache().end()) return it->second;
    error = "key file '" + path + "' was not read before privileges were dropped; restart segbridged to use it";
    return std::nullopt;
  }
  try {
    crypto::SecretKey key = crypto::load_key_file(path, "key", crypto::KeyFilePolicy{kOwner});
    core::SecretKey copy(key.data());
    cache()[path] = copy;
    return copy;
  } catch (const crypto::KeyFileError& e) {
    error = e.what();
    return std::nullopt;
  }
}

}  // namespace segbridge::daemon
