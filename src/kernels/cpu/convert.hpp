// Pixels to floats: the conversion of uint8 images that every batch goes through.
#pragma once

#include <cstdint>

#include "kernels/cpu/isa.hpp"

namespace kiln::cpu {

// dst[i] = float(double(src[i]) * scale) for i in [0, n): the value ByteTensor::astype<float>
// gives, to the bit, on every instruction set.
void scale_bytes(const uint8_t* src, int64_t n, double scale, float* dst);
// The same with a given instruction set (which the CPU must support), for tests.
void scale_bytes_with(Isa isa, const uint8_t* src, int64_t n, double scale, float* dst);

}  // namespace kiln::cpu
