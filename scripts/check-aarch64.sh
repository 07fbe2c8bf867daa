#!/usr/bin/env bash
# Builds kiln's CPU kernels for AArch64 (where only the portable baseline path exists) and runs
# them under QEMU against the reference: the GEMM in float32 and bf16, with and without its
# epilogue, on two threads, the pixel conversion, and softmax's exponential. Not part of the
# test suite (it needs about 400 MB of cross compiler and emulator); run it after changing
# src/kernels/cpu.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v aarch64-linux-gnu-g++ >/dev/null || ! command -v qemu-aarch64-static >/dev/null; then
  apt-get install -y -q g++-aarch64-linux-gnu qemu-user-static
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
flags=(-std=c++20 -O2 -Wall -Wextra -Werror -Wno-missing-field-initializers -Iinclude -Isrc)
# As in src/CMakeLists.txt: the exponential is compiled without FMA contraction.
aarch64-linux-gnu-g++ "${flags[@]}" -ffp-contract=off -c src/kernels/cpu/exp.cpp -o "$out/exp.o"
aarch64-linux-gnu-g++ "${flags[@]}" -static tests/portable/kernels_main.cpp "$out/exp.o" \
  src/kernels/cpu/{gemm_driver,gemm,gemm_bf16,isa,convert,thread_pool}.cpp -lpthread -o "$out/check"
qemu-aarch64-static "$out/check"
