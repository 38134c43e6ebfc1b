#pragma once
// UDP endpoints: the one place addresses are parsed, resolved and printed.
// Config text ("192.0.2.1:7440", "[2001:db8::1]:7440", "hub.example.org:7440")
// becomes an EndpointSpec; a resolved socket address is an Endpoint.
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace segbridge::daemon {

class Endpoint {
 public:
  Endpoint() = default;
  // nullopt unless `addr` is AF_INET or AF_INET6 with a plausible length.
  static std::optional<Endpoint> from_sockaddr(const sockaddr* addr, socklen_t len);
  static std::optional<Endpoint> from_literal(std::string_view ip, std::uint16_t port);

  int family() const { return storage_.ss_family; }
  std::uint16_t port() const;
  bool empty() const { return storage_.ss_family == AF_UNSPEC; }
  const sockaddr* addr() const { return reinterpret_cast<const sockaddr*>(&storage_); }
  socklen_t length() const { return length_; }

  // IPv4-mapped IPv6 (::ffff:a.b.c.d, what a dual-stack socket reports for
  // IPv4 senders) becomes plain IPv4, so equal peers compare equal.
  Endpoint unmapped() const;
  // The form a socket of `socket_family` can send to (IPv4 → ::ffff:a.b.c.d
  // on an AF_INET6 socket); nullopt if impossible (IPv6 on an AF_INET socket).
  std::optional<Endpoint> for_socket(int socket_family) const;

  // "192.0.2.1:7440" or "[2001:db8::1]:7440".
  std::string to_string() const;

  friend bool operator==(const Endpoint& a, const Endpoint& b);
  friend bool operator!=(const Endpoint& a, const Endpoint& b) { return !(a == b); }

 private:
  sockaddr_storage storage_{};
  socklen_t length_ = 0;
};

// An endpoint as written in the config: a literal address or a host name,
// and a port. Host names are resolved when the daemon needs the address.
struct EndpointSpec {
  std::string host;  // without brackets
  std::uint16_t port = 0;
  std::optional<Endpoint> literal;  // set when host is an IP literal
  std::string text;                 // as written, for messages
};

// Accepts "a.b.c.d:port", "[v6]:port", "hostname:port". On failure returns
// nullopt and sets `error` to a sentence saying what is wrong.
std::optional<EndpointSpec> parse_endpoint(std::string_view text, std::string& error);

// The literal, or the first address getaddrinfo returns (preferring
// `family` when not AF_UNSPEC). nullopt + error on failure.
std::optional<Endpoint> resolve(const EndpointSpec& spec, int family, std::string& error);

}  // namespace segbridge::daemon
