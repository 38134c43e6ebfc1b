// Any text: load_config_string never crashes; a config it accepts satisfies
// the invariants the daemon relies on (valid unique peer names, a spoke has
// exactly one peer with an endpoint, a hub has a listen address).
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>

#include "service/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  segbridge::config::Errors errors;
  auto c = segbridge::daemon::load_config_string(text, "fuzz.conf", errors);
  if (c.has_value() != errors.empty()) std::abort();
  if (!c) {
    for (const auto& m : errors.messages())
      if (m.rfind("fuzz.conf:", 0) != 0) std::abort();
    return 0;
  }
  std::set<std::string> names;
  for (const auto& p : c->peers) {
    if (!segbridge::daemon::valid_peer_name(p.name) || !names.insert(p.name).second) std::abort();
    if (p.tap_name().size() > 15 || p.psk_file.empty()) std::abort();
  }
  if (c->role == segbridge::daemon::Role::spoke && (c->peers.size() != 1 || !c->peers[0].endpoint)) std::abort();
  if (c->role == segbridge::daemon::Role::hub && !c->listen) std::abort();
  if (c->path_mtu < segbridge::daemon::kMinPathMtu || c->path_mtu > segbridge::daemon::kMaxPathMtu) std::abort();
  return 0;
}
