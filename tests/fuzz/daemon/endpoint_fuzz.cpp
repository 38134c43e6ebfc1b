// Any text: parse_endpoint never crashes, and an IP literal it accepts prints
// back to text that parses to the same endpoint.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "service/endpoint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string error;
  auto spec = segbridge::daemon::parse_endpoint(text, error);
  if (!spec) {
    if (error.empty()) std::abort();
    return 0;
  }
  if (spec->port == 0) std::abort();
  if (spec->literal) {
    std::string again_error;
    auto again = segbridge::daemon::parse_endpoint(spec->literal->to_string(), again_error);
    if (!again || !again->literal || *again->literal != *spec->literal) std::abort();
  }
  return 0;
}
