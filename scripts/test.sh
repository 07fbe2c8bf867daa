#!/usr/bin/env bash
# Builds kiln with warnings as errors and runs the whole test suite (GoogleTest under ctest,
# plus the command-line, install and packaging tests), then builds the library (static, the
# other way it is built) and the tests again with AddressSanitizer and
# UndefinedBehaviorSanitizer (build-asan/) and runs the suite there too,
# then builds the libFuzzer harnesses with clang (build-fuzz/) and runs each for 30 seconds.
# Installs what it needs on a fresh Debian 12 machine.
set -euo pipefail
cd "$(dirname "$0")/.."
KILN_CMAKE_ARGS="-DKILN_WERROR=ON -DKILN_BUILD_TESTS=ON ${KILN_CMAKE_ARGS:-}" scripts/setup.sh
ctest --test-dir build --output-on-failure -j 2

# -O1 keeps the sanitized builds quick to compile and their reports readable.
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
  -DKILN_WERROR=ON -DKILN_SANITIZE=ON -DKILN_BUILD_EXTRAS=OFF -DBUILD_SHARED_LIBS=OFF -DKILN_MPI=OFF
cmake --build build-asan
ctest --test-dir build-asan --output-on-failure -j 2

# The libFuzzer harnesses (fuzz/, docs/fuzzing.md): clang, the same sanitizers, the library and
# the harnesses only; each runs for 30 seconds from its seeds and past failures.
cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" -DKILN_WERROR=ON -DKILN_SANITIZE=ON -DKILN_FUZZ=ON \
  -DKILN_BUILD_TESTS=OFF -DKILN_BUILD_EXTRAS=OFF -DBUILD_SHARED_LIBS=OFF -DKILN_MPI=OFF
cmake --build build-fuzz --target fuzzers
scripts/fuzz.sh 30
