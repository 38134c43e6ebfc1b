#include "segbridge/core/endpoint.hpp"

#include <arpa/inet.h>  // inet_pton/inet_ntop: pure parsing/formatting, no syscalls

#include <cstring>

namespace segbridge::core {

namespace {
constexpr std::uint8_t kV4MappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

std::optional<std::uint32_t> parse_decimal(std::string_view s, std::uint32_t max) {
  if (s.empty() || s.size() > 10) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v > max) return std::nullopt;
  return static_cast<std::uint32_t>(v);
}
}  // namespace

Endpoint Endpoint::from_v4(const V4Bytes& address, std::uint16_t port) {
  Endpoint e;
  std::memcpy(e.address_.data(), address.data(), 4);
  e.port_ = port;
  e.family_ = Family::ipv4;
  return e;
}

Endpoint Endpoint::from_v6(const V6Bytes& address, std::uint16_t port, std::uint32_t scope_id) {
  Endpoint e;
  e.address_ = address;
  e.port_ = port;
  e.scope_id_ = scope_id;
  e.family_ = Family::ipv6;
  return e;
}

Endpoint::V4Bytes Endpoint::v4_bytes() const {
  V4Bytes b{};
  std::memcpy(b.data(), address_.data(), 4);
  return b;
}

Endpoint Endpoint::unmapped() const {
  if (family_ != Family::ipv6 || std::memcmp(address_.data(), kV4MappedPrefix, 12) != 0) return *this;
  return from_v4({address_[12], address_[13], address_[14], address_[15]}, port_);
}

std::size_t Endpoint::ip_udp_overhead() const {
  return (family_ == Family::ipv6 ? 40 : 20) + 8;
}

std::optional<Endpoint> Endpoint::parse(std::string_view text, bool require_port) {
  std::string_view host = text;
  std::string_view port_text;
  bool v6 = false;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = text.substr(1, close - 1);
    auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      port_text = rest.substr(1);
      if (port_text.empty()) return std::nullopt;
    }
    v6 = true;
  } else {
    auto colon = text.rfind(':');
    if (colon != std::string_view::npos) {
      if (text.find(':') != colon) {
        // Bare IPv6 without brackets: only acceptable without a port.
        v6 = true;
      } else {
        host = text.substr(0, colon);
        port_text = text.substr(colon + 1);
        if (port_text.empty()) return std::nullopt;
      }
    }
  }
  std::uint16_t port = 0;
  if (!port_text.empty()) {
    auto p = parse_decimal(port_text, 65535);
    if (!p || *p == 0) return std::nullopt;
    port = static_cast<std::uint16_t>(*p);
  } else if (require_port) {
    return std::nullopt;
  }
  if (host.empty() || host.size() > 64) return std::nullopt;
  std::uint32_t scope = 0;
  if (v6) {
    auto pct = host.find('%');
    if (pct != std::string_view::npos) {
      auto s = parse_decimal(host.substr(pct + 1), 0xffffffffu);
      if (!s) return std::nullopt;
      scope = *s;
      host = host.substr(0, pct);
    }
  }
  char buffer[65];
  std::memcpy(buffer, host.data(), host.size());
  buffer[host.size()] = '\0';
  if (v6) {
    V6Bytes a{};
    if (inet_pton(AF_INET6, buffer, a.data()) != 1) return std::nullopt;
    return from_v6(a, port, scope);
  }
  V4Bytes a{};
  if (inet_pton(AF_INET, buffer, a.data()) != 1) return std::nullopt;
  return from_v4(a, port);
}

std::string Endpoint::to_string() const {
  char buffer[INET6_ADDRSTRLEN + 1] = {};
  switch (family_) {
    case Family::ipv4:
      inet_ntop(AF_INET, address_.data(), buffer, sizeof buffer);
      return std::string(buffer) + ":" + std::to_string(port_);
    case Family::ipv6: {
      inet_ntop(AF_INET6, address_.data(), buffer, sizeof buffer);
      std::string s = "[" + std::string(buffer);
      if (scope_id_ != 0) s += "%" + std::to_string(scope_id_);
      return s + "]:" + std::to_string(port_);
    }
    case Family::none:
      break;
  }
  return "(none)";
}

}  // namespace segbridge::core

std::size_t std::hash<segbridge::core::Endpoint>::operator()(const segbridge::core::Endpoint& e) const noexcept {
  std::size_t h = static_cast<std::size_t>(e.family()) * 1000003u ^ e.port();
  for (auto b : e.address_bytes()) h = h * 131 + b;
  return h ^ e.scope_id();
}
