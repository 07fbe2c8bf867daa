// The exponential that softmax takes, vectorized: a softmax's inputs are never positive once
// the row's maximum is subtracted, and std::exp one value at a time was most of its cost.
#pragma once

#include <cstdint>

#include "kernels/cpu/isa.hpp"

namespace kiln::cpu {

// x[i] = exp(x[i]) in place for i in [0, n), for x[i] <= 0: within 2 ulp of std::exp where that
// is a normal float, 0 where it is not (below -87.34), 1 at 0, 0 at -inf, NaN for NaN. The
// same bits on every instruction set. Positive inputs are outside its domain.
void exp_nonpositive(float* x, int64_t n);
// The same with a given instruction set (which the CPU must support), for tests.
void exp_nonpositive_with(Isa isa, float* x, int64_t n);

}  // namespace kiln::cpu
