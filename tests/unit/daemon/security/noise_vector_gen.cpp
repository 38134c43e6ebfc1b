// Prints the known-answer vectors for the current implementation (see noise_vectors.hpp).
#include <iostream>

#include "noise_vectors.hpp"

int main() {
  std::cout << segbridge::crypto::test::format_vectors(segbridge::crypto::test::generate_noise_vectors());
  return 0;
}
