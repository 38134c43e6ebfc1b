#include "segbridge/crypto/rate_limiter.hpp"

#include <algorithm>

namespace segbridge::crypto {
namespace {

constexpr std::chrono::seconds kIdleAfter{1};

// 64-bit key: the IPv4 address, or the first 64 bits of an IPv6 address.
std::uint64_t source_key(const SourceAddress& s) {
  const std::size_t n = s.ip_len == 16 ? 8 : 4;
  std::uint64_t key = 0;
  for (std::size_t i = 0; i < n; ++i) key = (key << 8) | s.ip[i];
  return key;
}

}  // namespace

RateLimiter::RateLimiter(RateLimitConfig config) : config_(config) {}

void RateLimiter::collect_idle(Instant now) {
  if (now - last_collect_ < kIdleAfter) return;
  last_collect_ = now;
  for (auto* table : {&buckets_, &buckets6_}) {
    for (auto it = table->begin(); it != table->end();) {
      // An entry idle for a second has refilled to the burst anyway.
      it = now - it->second.last >= kIdleAfter ? table->erase(it) : std::next(it);
    }
  }
}

bool RateLimiter::allow(const SourceAddress& source, Instant now) {
  collect_idle(now);
  auto& table = source.ip_len == 16 ? buckets6_ : buckets_;
  const std::uint64_t key = source_key(source);
  auto it = table.find(key);
  if (it == table.end()) {
    if (buckets_.size() + buckets6_.size() >= config_.max_sources) return false;
    table.emplace(key, Bucket{config_.burst - 1, now});
    return true;
  }
  Bucket& b = it->second;
  const double elapsed = std::chrono::duration<double>(now - b.last).count();
  b.tokens = std::min(config_.burst, b.tokens + std::max(0.0, elapsed) * config_.packets_per_second);
  b.last = now;
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

void LoadDetector::record(Instant now) {
  if (now - window_start_ >= std::chrono::seconds(1)) {
    window_start_ = now;
    in_window_ = 0;
  }
  if (++in_window_ > config_.threshold_per_second) loaded_until_ = now + config_.sticky;
}

void LoadDetector::report_backlog(std::size_t depth, std::size_t capacity, Instant now) {
  if (capacity > 0 && depth >= std::max<std::size_t>(1, capacity / 8)) loaded_until_ = now + config_.sticky;
}

bool LoadDetector::under_load(Instant now) const {
  return forced_ || now < loaded_until_;
}

}  // namespace segbridge::crypto
