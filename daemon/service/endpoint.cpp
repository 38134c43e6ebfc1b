#include "endpoint.hpp"

#include <arpa/inet.h>
#include <netdb.h>

#include <cstring>
#include <memory>

namespace segbridge::daemon {
namespace {

bool valid_hostname(std::string_view host) {
  // RFC 1123 labels: letters, digits, '-', not starting/ending with '-'.
  if (host.empty() || host.size() > 253) return false;
  std::size_t label = 0;
  char prev = '.';
  for (char c : host) {
    if (c == '.') {
      if (label == 0 || prev == '-') return false;
      label = 0;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-') {
      if (label == 0 && c == '-') return false;
      if (++label > 63) return false;
    } else {
      return false;
    }
    prev = c;
  }
  return prev != '-' && prev != '.';
}

bool all_digits_and_dots(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || c == '.')) return false;
  return true;
}

}  // namespace

std::optional<Endpoint> Endpoint::from_sockaddr(const sockaddr* addr, socklen_t len) {
  if (!addr) return std::nullopt;
  Endpoint e;
  if (addr->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    std::memcpy(&e.storage_, addr, sizeof(sockaddr_in));
    e.length_ = sizeof(sockaddr_in);
    return e;
  }
  if (addr->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    std::memcpy(&e.storage_, addr, sizeof(sockaddr_in6));
    e.length_ = sizeof(sockaddr_in6);
    return e;
  }
  return std::nullopt;
}

std::optional<Endpoint> Endpoint::from_literal(std::string_view ip, std::uint16_t port) {
  std::string s(ip);
  sockaddr_in v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    v4.sin_port = htons(port);
    return from_sockaddr(reinterpret_cast<sockaddr*>(&v4), sizeof v4);
  }
  sockaddr_in6 v6{};
  if (inet_pton(AF_INET6, s.c_str(), &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(port);
    return from_sockaddr(reinterpret_cast<sockaddr*>(&v6), sizeof v6);
  }
  return std::nullopt;
}

std::uint16_t Endpoint::port() const {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
  if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
  return 0;
}

Endpoint Endpoint::unmapped() const {
  if (family() != AF_INET6) return *this;
  const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&storage_);
  if (!IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr)) return *this;
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  v4.sin_port = v6->sin6_port;
  std::memcpy(&v4.sin_addr, &v6->sin6_addr.s6_addr[12], 4);
  return *from_sockaddr(reinterpret_cast<sockaddr*>(&v4), sizeof v4);
}

std::optional<Endpoint> Endpoint::for_socket(int socket_family) const {
  if (family() == socket_family) return *this;
  if (family() == AF_INET && socket_family == AF_INET6) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&storage_);
    sockaddr_in6 v6{};
    v6.sin6_family = AF_INET6;
    v6.sin6_port = v4->sin_port;
    v6.sin6_addr.s6_addr[10] = 0xff;
    v6.sin6_addr.s6_addr[11] = 0xff;
    std::memcpy(&v6.sin6_addr.s6_addr[12], &v4->sin_addr, 4);
    return from_sockaddr(reinterpret_cast<sockaddr*>(&v6), sizeof v6);
  }
  if (family() == AF_INET6 && socket_family == AF_INET) {
    Endpoint u = unmapped();
    if (u.family() == AF_INET) return u;
  }
  return std::nullopt;
}

std::string Endpoint::to_string() const {
  char buf[INET6_ADDRSTRLEN] = "";
  if (family() == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, buf, sizeof buf);
    return std::string(buf) + ":" + std::to_string(port());
  }
  if (family() == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, buf, sizeof buf);
    return "[" + std::string(buf) + "]:" + std::to_string(port());
  }
  return "";
}

bool operator==(const Endpoint& a, const Endpoint& b) {
  if (a.family() != b.family()) return false;
  if (a.family() == AF_INET) {
    const auto* x = reinterpret_cast<const sockaddr_in*>(&a.storage_);
    const auto* y = reinterpret_cast<const sockaddr_in*>(&b.storage_);
    return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
  }
  if (a.family() == AF_INET6) {
    const auto* x = reinterpret_cast<const sockaddr_in6*>(&a.storage_);
    const auto* y = reinterpret_cast<const sockaddr_in6*>(&b.storage_);
    return x->sin6_port == y->sin6_port && x->sin6_scope_id == y->sin6_scope_id &&
           std::memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
  }
  return a.family() == AF_UNSPEC;
}

std::optional<EndpointSpec> parse_endpoint(std::string_view text, std::string& error) {
  EndpointSpec spec;
  spec.text = std::string(text);
  std::string_view host, port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) {
      error = "'" + spec.text + "': missing ']' after the IPv6 address";
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') {
      error = "'" + spec.text + "': expected ':port' after ']'";
      return std::nullopt;
    }
    port = rest.substr(1);
    if (!Endpoint::from_literal(host, 1) || Endpoint::from_literal(host, 1)->family() != AF_INET6) {
      error = "'" + spec.text + "': '" + std::string(host) + "' is not an IPv6 address";
      return std::nullopt;
    }
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      error = "'" + spec.text + "': expected address:port (IPv6 as [address]:port)";
      return std::nullopt;
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      error = "'" + spec.text + "': write IPv6 addresses in brackets, as [address]:port";
      return std::nullopt;
    }
  }
  if (host.empty()) {
    error = "'" + spec.text + "': the address is empty";
    return std::nullopt;
  }
  if (port.empty() || port.size() > 5) {
    error = "'" + spec.text + "': the port must be a number 1-65535";
    return std::nullopt;
  }
  unsigned long p = 0;
  for (char c : port) {
    if (c < '0' || c > '9') {
      error = "'" + spec.text + "': the port must be a number 1-65535";
      return std::nullopt;
    }
    p = p * 10 + static_cast<unsigned>(c - '0');
  }
  if (p == 0 || p > 65535) {
    error = "'" + spec.text + "': the port must be a number 1-65535";
    return std::nullopt;
  }
  spec.host = std::string(host);
  spec.port = static_cast<std::uint16_t>(p);
  spec.literal = Endpoint::from_literal(spec.host, spec.port);
  if (!spec.literal) {
    // Dotted digits that failed inet_pton are a mistyped IPv4 address, not a host name.
    if (all_digits_and_dots(spec.host) || !valid_hostname(spec.host)) {
      error = "'" + spec.text + "': '" + spec.host + "' is neither an IP address nor a valid host name";
      return std::nullopt;
    }
  }
  return spec;
}

std::optional<Endpoint> resolve(const EndpointSpec& spec, int family, std::string& error) {
  if (spec.literal) return spec.literal;
  addrinfo hints{};
  hints.ai_family = family;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(spec.host.c_str(), std::to_string(spec.port).c_str(), &hints, &res);
  if (rc != 0) {
    error = "cannot resolve '" + spec.host + "': " + gai_strerror(rc);
    return std::nullopt;
  }
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> owned(res, freeaddrinfo);
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    if (auto e = Endpoint::from_sockaddr(ai->ai_addr, ai->ai_addrlen)) return e;
  }
  error = "'" + spec.host + "' has no IPv4 or IPv6 address";
  return std::nullopt;
}

}  // namespace segbridge::daemon
