#!/usr/bin/env bash
# Builds kiln with warnings as errors and runs the whole test suite (GoogleTest under ctest,
# plus the command-line tests). Installs what it needs on a fresh Debian 12 machine.
set -euo pipefail
cd "$(dirname "$0")/.."
KILN_CMAKE_ARGS="-DKILN_WERROR=ON -DKILN_BUILD_TESTS=ON ${KILN_CMAKE_ARGS:-}" scripts/setup.sh
ctest --test-dir build --output-on-failure -j 2
