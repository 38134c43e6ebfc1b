// Any text that parses as a MAC must round-trip to the canonical form.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "segbridge/mac_address.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto mac = segbridge::MacAddress::parse(text);
  if (mac) {
    auto again = segbridge::MacAddress::parse(mac->to_string());
    if (!again || *again != *mac) std::abort();
  }
  return 0;
}
