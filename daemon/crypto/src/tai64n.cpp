#include "segbridge/crypto/tai64n.hpp"

#include <algorithm>

namespace segbridge::crypto {

Tai64n tai64n_from(std::chrono::system_clock::time_point wall) {
  using namespace std::chrono;
  const auto since_epoch = duration_cast<nanoseconds>(wall.time_since_epoch()).count();
  std::int64_t secs = since_epoch / 1000000000;
  std::int64_t nanos = since_epoch % 1000000000;
  if (nanos < 0) {  // before 1970: floor division
    nanos += 1000000000;
    secs -= 1;
  }
  constexpr std::uint32_t kWhitenerMask = 0x1000000 - 1;
  const std::uint64_t tai = (std::uint64_t{1} << 62) + 10 + static_cast<std::uint64_t>(secs);
  const std::uint32_t ns = static_cast<std::uint32_t>(nanos) & ~kWhitenerMask;
  Tai64n out{};
  for (int i = 0; i < 8; ++i) out[i] = static_cast<std::uint8_t>(tai >> (56 - 8 * i));
  for (int i = 0; i < 4; ++i) out[8 + i] = static_cast<std::uint8_t>(ns >> (24 - 8 * i));
  return out;
}

bool tai64n_after(const Tai64n& a, const Tai64n& b) {
  return std::lexicographical_compare(b.begin(), b.end(), a.begin(), a.end());
}

Tai64n tai64n_next(const Tai64n& t) {
  std::uint64_t secs = 0;
  std::uint32_t ns = 0;
  for (int i = 0; i < 8; ++i) secs = (secs << 8) | t[i];
  for (int i = 0; i < 4; ++i) ns = (ns << 8) | t[8 + i];
  if (++ns >= 1000000000) {
    ns = 0;
    ++secs;
  }
  Tai64n out{};
  for (int i = 0; i < 8; ++i) out[i] = static_cast<std::uint8_t>(secs >> (56 - 8 * i));
  for (int i = 0; i < 4; ++i) out[8 + i] = static_cast<std::uint8_t>(ns >> (24 - 8 * i));
  return out;
}

}  // namespace segbridge::crypto
