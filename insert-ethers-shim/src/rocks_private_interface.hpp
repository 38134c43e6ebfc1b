#pragma once
// private_interface = "rocks": ask Rocks which device insert-ethers compares
// against. insert-ethers uses networks.device of the frontend's row on subnet
// "private" (ROCKS.md §1.1); `rocks list host interface localhost` prints
// exactly those rows as aligned columns (HOST SUBNET IFACE MAC ...), where
// empty values are dashes, so whitespace tokens line up with the header.
#include <optional>
#include <string>

namespace segbridge::shim {

struct PrivateInterfaceLookup {
  std::optional<std::string> device;
  std::string problem;  // why device is empty, or a warning (several rows)
};

// Pure: finds the IFACE of the first row whose SUBNET is "private".
PrivateInterfaceLookup parse_rocks_private_interface(const std::string& command_output);

// Runs `command` through /bin/sh (bounded by timeout_s) and parses its output.
PrivateInterfaceLookup query_rocks_private_interface(const std::string& command, int timeout_s);

}  // namespace segbridge::shim
