// Element-wise merges of k inputs of n values each: out = op(in[0], ..., in[k-1]).
#pragma once

#include <cstdint>

namespace kiln::cpu {

enum class MergeOp { kAdd, kSubtract, kMultiply, kAverage, kMaximum, kMinimum };

// out (n) = in[0] op in[1] op ... (Subtract: in[0] - in[1], k = 2; Average: the sum / k).
void merge_forward(MergeOp op, float* out, const float* const* in, int64_t k, int64_t n);

// The gradient of input j, din[j] (n), for every j whose din[j] is not null, from dout (n):
// written, or added where accumulate[j]. Multiply, Maximum and Minimum read the inputs;
// Maximum and Minimum give each element's gradient to the first input holding the extreme
// (TensorFlow's rule for ties).
void merge_backward(MergeOp op, float* const* din, const uint8_t* accumulate, const float* dout,
                    const float* const* in, int64_t k, int64_t n);

}  // namespace kiln::cpu
