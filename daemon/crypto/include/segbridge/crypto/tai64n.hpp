#pragma once
// TAI64N timestamps as WireGuard puts in the handshake initiation: 8-byte
// big-endian TAI64 seconds (2^62 + 10 + Unix seconds) and 4-byte big-endian
// nanoseconds. The nanoseconds are rounded down to 2^24 ns (~16.8 ms), as
// WireGuard does, so the initiation does not leak a fine-grained clock.
// Big-endian makes a byte-wise comparison equal a time comparison.
#include <array>
#include <chrono>
#include <cstdint>

namespace segbridge::crypto {

using Tai64n = std::array<std::uint8_t, 12>;

Tai64n tai64n_from(std::chrono::system_clock::time_point wall);

// Strictly later in time.
bool tai64n_after(const Tai64n& a, const Tai64n& b);

// The smallest timestamp strictly after `t` (used so an initiator never
// repeats a timestamp when it retries within one rounding step).
Tai64n tai64n_next(const Tai64n& t);

}  // namespace segbridge::crypto
