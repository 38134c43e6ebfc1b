#pragma once
// JSON string escaping for the hand-written JSON of `segbridgectl status --json`
// and `insert-ethers-shim list --json` (one implementation for both).
#include <string>
#include <string_view>

namespace segbridge {

// The characters of `text` escaped for use inside a JSON string (no quotes).
std::string json_escape(std::string_view text);
// `text` as a quoted JSON string.
std::string json_quote(std::string_view text);

}  // namespace segbridge
