#pragma once
// Conversions between the socket-level Endpoint (sockaddr, service/endpoint.hpp)
// and the protocol core's plain-value core::Endpoint.
#include "endpoint.hpp"
#include "segbridge/core/endpoint.hpp"

namespace segbridge::daemon {

// IPv4-mapped addresses become IPv4 (the core sees one identity per peer).
core::Endpoint to_core(const Endpoint& e);
Endpoint from_core(const core::Endpoint& e);

}  // namespace segbridge::daemon
