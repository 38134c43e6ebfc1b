#pragma once
// A UDP endpoint (IPv4 or IPv6 address + port) as a plain value type. The
// core never touches sockets; the runtime converts to/from its own types
// (asio::ip::udp::endpoint, sockaddr) with from_v4/from_v6/address_bytes.
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace segbridge::core {

class Endpoint {
 public:
  enum class Family : std::uint8_t { none = 0, ipv4 = 4, ipv6 = 6 };
  using V4Bytes = std::array<std::uint8_t, 4>;
  using V6Bytes = std::array<std::uint8_t, 16>;

  constexpr Endpoint() = default;
  static Endpoint from_v4(const V4Bytes& address, std::uint16_t port);
  static Endpoint from_v6(const V6Bytes& address, std::uint16_t port, std::uint32_t scope_id = 0);

  // "192.0.2.1:7440", "[2001:db8::1]:7440", "[fe80::1%3]:7440" (numeric scope only).
  // nullopt on anything else, including a missing or zero port when require_port.
  static std::optional<Endpoint> parse(std::string_view text, bool require_port = true);
  std::string to_string() const;

  Family family() const { return family_; }
  bool is_v4() const { return family_ == Family::ipv4; }
  bool is_v6() const { return family_ == Family::ipv6; }
  bool empty() const { return family_ == Family::none; }
  std::uint16_t port() const { return port_; }
  std::uint32_t scope_id() const { return scope_id_; }
  // Network byte order; 4 meaningful bytes for IPv4, 16 for IPv6.
  const V6Bytes& address_bytes() const { return address_; }
  V4Bytes v4_bytes() const;
  // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) reported as plain IPv4, so a
  // dual-stack socket and an IPv4 socket see the same peer identity.
  Endpoint unmapped() const;

  // IP + UDP header bytes a datagram to this endpoint costs.
  std::size_t ip_udp_overhead() const;

  friend bool operator==(const Endpoint& a, const Endpoint& b) {
    return a.family_ == b.family_ && a.port_ == b.port_ && a.scope_id_ == b.scope_id_ && a.address_ == b.address_;
  }
  friend bool operator!=(const Endpoint& a, const Endpoint& b) { return !(a == b); }

 private:
  V6Bytes address_{};
  std::uint32_t scope_id_ = 0;
  std::uint16_t port_ = 0;
  Family family_ = Family::none;
};

}  // namespace segbridge::core

template <>
struct std::hash<segbridge::core::Endpoint> {
  std::size_t operator()(const segbridge::core::Endpoint& e) const noexcept;
};
