# Find every external dependency the standard way, failing with a message that
# names the Debian and EL7 package to install.
find_package(PkgConfig)
if(NOT PKG_CONFIG_FOUND)
  message(FATAL_ERROR "pkg-config not found: apt-get install pkg-config (EL7: yum install pkgconfig)")
endif()

function(segbridge_require_pkg target module debian el7)
  pkg_check_modules(${target} IMPORTED_TARGET ${module})
  if(NOT ${target}_FOUND)
    message(FATAL_ERROR "${module} not found via pkg-config: apt-get install ${debian} (EL7: yum install ${el7}), or run scripts/install-deps.sh")
  endif()
endfunction()

segbridge_require_pkg(SODIUM "libsodium>=1.0.18" libsodium-dev libsodium-devel)
segbridge_require_pkg(NL3 "libnl-3.0>=3.2.28" libnl-3-dev libnl3-devel)
segbridge_require_pkg(NLROUTE3 "libnl-route-3.0>=3.2.28" libnl-route-3-dev libnl3-devel)
segbridge_require_pkg(PCAP "libpcap" libpcap-dev libpcap-devel)
segbridge_require_pkg(SQLITE3 "sqlite3>=3.7.17" libsqlite3-dev sqlite-devel)

find_package(Boost 1.66 QUIET)
if(NOT Boost_FOUND)
  message(FATAL_ERROR "Boost >= 1.66 headers (Asio) not found: apt-get install libboost-dev (EL7: boost166-devel from EPEL)")
endif()
find_package(Threads REQUIRED)

# Config files are TOML, read with toml++ (header-only; vendored into the
# EL7 source RPM where no package exists).
find_package(tomlplusplus 3 QUIET)
if(NOT tomlplusplus_FOUND)
  message(FATAL_ERROR "toml++ (tomlplusplus >= 3) not found: apt-get install libtomlplusplus-dev")
endif()

# libcap-ng lets segbridged keep only the capabilities it still needs.
pkg_check_modules(CAPNG IMPORTED_TARGET libcap-ng)
if(NOT CAPNG_FOUND)
  message(FATAL_ERROR "libcap-ng not found: apt-get install libcap-ng-dev (EL7: yum install libcap-ng-devel)")
endif()

if(SEGBRIDGE_BUILD_TESTS)
  find_package(GTest QUIET)
  if(NOT GTest_FOUND)
    message(FATAL_ERROR "GoogleTest not found: apt-get install libgtest-dev libgmock-dev, or configure with -DSEGBRIDGE_BUILD_TESTS=OFF")
  endif()
  find_package(benchmark QUIET)
  if(NOT benchmark_FOUND)
    message(STATUS "Google Benchmark not found: microbenchmarks are not built (apt-get install libbenchmark-dev)")
  endif()
endif()
