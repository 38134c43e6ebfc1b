#pragma once
// libsodium must be initialised once, before any thread uses it. Every entry
// point of segbridge_crypto calls this; it is cheap after the first call.
namespace segbridge::crypto {

// Throws std::runtime_error if libsodium cannot initialise (no entropy source).
void ensure_sodium();

}  // namespace segbridge::crypto
