#pragma once
// Handshake flood control (WireGuard's ratelimiter and IsUnderLoad):
//  * RateLimiter: a token bucket per source address (IPv4 address, or IPv6
//    /64 so one host cannot multiply itself), 20 packets/s with a burst of 5.
//    The table is bounded; idle entries are collected, and when it is full
//    new sources are refused rather than letting memory grow.
//  * LoadDetector: "under load" once more than a threshold of handshake
//    messages arrive within a second (or the caller reports a deep backlog);
//    stays on for a second after the last trigger.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <unordered_map>

#include "segbridge/crypto/cookie.hpp"
#include "segbridge/crypto/source_address.hpp"

namespace segbridge::crypto {

struct RateLimitConfig {
  double packets_per_second = 20;
  double burst = 5;
  std::size_t max_sources = 65536;
};

class RateLimiter {
 public:
  explicit RateLimiter(RateLimitConfig config = {});
  bool allow(const SourceAddress& source, Instant now);
  std::size_t tracked_sources() const { return buckets_.size(); }

 private:
  struct Bucket {
    double tokens;
    Instant last;
  };
  void collect_idle(Instant now);

  RateLimitConfig config_;
  std::unordered_map<std::uint64_t, Bucket> buckets_;
  std::unordered_map<std::uint64_t, Bucket> buckets6_;
  Instant last_collect_{};
};

struct LoadConfig {
  // Handshake messages per second above which cookies are demanded.
  std::uint32_t threshold_per_second = 200;
  std::chrono::milliseconds sticky{1000};
};

class LoadDetector {
 public:
  explicit LoadDetector(LoadConfig config = {}) : config_(config) {}
  // Count one received handshake message.
  void record(Instant now);
  // Backlog from the caller's queue (WireGuard: load when >= capacity / 8).
  void report_backlog(std::size_t depth, std::size_t capacity, Instant now);
  bool under_load(Instant now) const;
  // Tests (and an operator knob) can force cookie mode on.
  void force(bool on) { forced_ = on; }

 private:
  LoadConfig config_;
  Instant window_start_{};
  std::uint32_t in_window_ = 0;
  Instant loaded_until_{};
  bool forced_ = false;
};

}  // namespace segbridge::crypto
