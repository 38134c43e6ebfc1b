# Build switches shared by every target.
option(SEGBRIDGE_BUILD_TESTS "Build unit/integration tests, fuzz replays and benchmarks" ON)
option(SEGBRIDGE_SANITIZE "Build with AddressSanitizer + UndefinedBehaviorSanitizer" OFF)
option(SEGBRIDGE_FUZZ "Build fuzz targets with clang's libFuzzer (requires clang)" OFF)
option(SEGBRIDGE_WERROR "Treat warnings as errors" ON)

add_compile_options(-Wall -Wextra -Wshadow -Wnon-virtual-dtor -Wformat=2)
if(SEGBRIDGE_WERROR)
  add_compile_options(-Werror)
endif()

if(SEGBRIDGE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined -fno-sanitize-recover=all)
endif()

if(SEGBRIDGE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "SEGBRIDGE_FUZZ=ON needs clang: configure with -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang")
  endif()
  # Instrument everything for coverage feedback; only fuzz targets link the
  # libFuzzer driver (-fsanitize=fuzzer), see tests/fuzz/CMakeLists.txt.
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
