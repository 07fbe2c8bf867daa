// bfloat16: the upper 16 bits of a float32 (sign, 8 exponent bits, 7 mantissa bits). Rounding
// is to nearest, ties to even, as vcvtneps2bf16 does; a NaN stays a (quiet) NaN.
#pragma once

#include <bit>
#include <cstdint>

namespace kiln::cpu {

inline uint16_t bf16_bits(float x) {
  uint32_t u = std::bit_cast<uint32_t>(x);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x0040u);
  return static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

inline float bf16_to_float(uint16_t bits) {
  return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16);
}

// x rounded to the nearest bfloat16, as a float32.
inline float round_to_bf16(float x) { return bf16_to_float(bf16_bits(x)); }

}  // namespace kiln::cpu
