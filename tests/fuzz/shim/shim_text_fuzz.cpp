// libFuzzer target for the shim's text parsers: the TOML config (through the
// validator, which must report errors, never crash) and the
// `rocks list host interface` output parser. The first input byte picks one.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "rocks_private_interface.hpp"
#include "shim_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  if (data[0] & 1) {
    segbridge::config::Errors errors;
    auto c = segbridge::shim::parse_shim_config(text, "fuzz.conf", errors);
    if (c.has_value() == !errors.empty()) std::abort();  // exactly one of: config, errors
    if (c && (c->interfaces.empty() || c->max_pending < 1)) std::abort();
  } else {
    auto r = segbridge::shim::parse_rocks_private_interface(text);
    if (!r.device && r.problem.empty()) std::abort();
    if (r.device && r.device->empty()) std::abort();
  }
  return 0;
}
