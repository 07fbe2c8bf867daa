#!/usr/bin/env bash
# Builds kiln with warnings as errors and runs the whole test suite (GoogleTest under ctest,
# plus the command-line tests), then builds the library and the tests again with
# AddressSanitizer and UndefinedBehaviorSanitizer (build-asan/) and runs the suite there too.
# Installs what it needs on a fresh Debian 12 machine.
set -euo pipefail
cd "$(dirname "$0")/.."
KILN_CMAKE_ARGS="-DKILN_WERROR=ON -DKILN_BUILD_TESTS=ON ${KILN_CMAKE_ARGS:-}" scripts/setup.sh
ctest --test-dir build --output-on-failure -j 2

# -O1 keeps the sanitized build quick to compile and its reports readable.
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
  -DKILN_WERROR=ON -DKILN_SANITIZE=ON -DKILN_BUILD_EXTRAS=OFF
cmake --build build-asan
ctest --test-dir build-asan --output-on-failure -j 2
