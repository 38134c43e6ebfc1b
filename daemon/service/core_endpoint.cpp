#include "core_endpoint.hpp"

#include <cstring>

namespace segbridge::daemon {

core::Endpoint to_core(const Endpoint& in) {
  Endpoint e = in.unmapped();
  if (e.family() == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(e.addr());
    core::Endpoint::V4Bytes b;
    std::memcpy(b.data(), &v4->sin_addr, 4);
    return core::Endpoint::from_v4(b, e.port());
  }
  if (e.family() == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(e.addr());
    core::Endpoint::V6Bytes b;
    std::memcpy(b.data(), &v6->sin6_addr, 16);
    return core::Endpoint::from_v6(b, e.port(), v6->sin6_scope_id);
  }
  return core::Endpoint();
}

Endpoint from_core(const core::Endpoint& e) {
  if (e.is_v4()) {
    sockaddr_in v4{};
    v4.sin_family = AF_INET;
    v4.sin_port = htons(e.port());
    std::memcpy(&v4.sin_addr, e.address_bytes().data(), 4);
    return *Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&v4), sizeof v4);
  }
  if (e.is_v6()) {
    sockaddr_in6 v6{};
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(e.port());
    v6.sin6_scope_id = e.scope_id();
    std::memcpy(&v6.sin6_addr, e.address_bytes().data(), 16);
    return *Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&v6), sizeof v6);
  }
  return Endpoint();
}

}  // namespace segbridge::daemon
