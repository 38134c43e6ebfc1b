#pragma once
// Non-owning byte ranges (C++17 has no std::span). The core never owns I/O
// buffers: the runtime hands it views into its own reusable memory.
#include <cstddef>
#include <cstdint>

namespace segbridge::core {

struct ConstBytes {
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;

  constexpr ConstBytes() = default;
  constexpr ConstBytes(const std::uint8_t* d, std::size_t n) : data(d), size(n) {}
  bool empty() const { return size == 0; }
  const std::uint8_t* begin() const { return data; }
  const std::uint8_t* end() const { return data + size; }
  std::uint8_t operator[](std::size_t i) const { return data[i]; }
};

struct MutableBytes {
  std::uint8_t* data = nullptr;
  std::size_t size = 0;

  constexpr MutableBytes() = default;
  constexpr MutableBytes(std::uint8_t* d, std::size_t n) : data(d), size(n) {}
  operator ConstBytes() const { return {data, size}; }  // NOLINT: implicit by design
  bool empty() const { return size == 0; }
  std::uint8_t* begin() const { return data; }
  std::uint8_t* end() const { return data + size; }
};

}  // namespace segbridge::core
