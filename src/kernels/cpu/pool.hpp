// Pooling over channels-last images (N, H, W, C), each channel on its own.
#pragma once

#include <cstdint>

#include "kernels/cpu/window.hpp"

namespace kiln::cpu {

enum class PoolOp { kMax, kAverage };

// out (B, OH, OW, C) = the maximum or the mean of each window of x (B, H, W, C). Padding never
// counts: a maximum is taken over the window's values inside the image, and a mean divides by
// how many there are (TensorFlow's "same" pooling). For a maximum, `where` (B, OH, OW, C; may be
// null) receives the offset in its image of the first value in the window (row by row) equal to
// it, -1 for a NaN.
void pool_forward(PoolOp op, float* out, const float* x, const Window& w, int64_t B, int32_t* where = nullptr);

// dx (B, H, W, C) = (or += with accumulate) the gradient from dout (B, OH, OW, C): a maximum's
// goes to the value `where` names, a mean's is shared evenly by the values it averaged.
void pool_backward(PoolOp op, float* dx, bool accumulate, const float* dout, const int32_t* where, const Window& w,
                   int64_t B);

// out (B, C) = the maximum or mean over the n positions of each channel of x (B, n, C).
void global_pool_forward(PoolOp op, float* out, const float* x, int64_t B, int64_t n, int64_t C);
void global_pool_backward(PoolOp op, float* dx, bool accumulate, const float* dout, const float* x,
                          const float* out, int64_t B, int64_t n, int64_t C);

}  // namespace kiln::cpu
