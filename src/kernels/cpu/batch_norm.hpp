// Batch normalization over rows of F features: x (N, F), statistics per feature. The sums run
// over fixed chunks of rows, in double, whichever thread takes a chunk, and the chunks' sums are
// added in order: results do not depend on the thread count.
#pragma once

#include <cstdint>

namespace kiln::cpu {

// Floats of scratch the statistics and the backward sums need for N rows of F features.
int64_t batch_norm_scratch(int64_t N, int64_t F);

// mean (F) and inv_std (F) = 1 / sqrt(variance + epsilon) of the N rows of x, the variance
// biased (divided by N); variance (F) receives the variance itself.
void batch_norm_statistics(float* mean, float* variance, float* inv_std, const float* x, int64_t N, int64_t F,
                           float epsilon, float* scratch);

// y = x * a + b per feature (a = gamma * inv_std, b = beta - mean * a): both passes' output.
void batch_norm_apply(float* y, const float* x, const float* a, const float* b, int64_t N, int64_t F);

// The training pass's gradients, given dy (N, F), x, the saved mean and inv_std and gamma (null:
// ones): dgamma and dbeta (F, either may be null) get alpha times theirs, added or written as
// accumulate says, and dx (N, F, null when not needed) the input's, added or written as
// dx_accumulate says. dx is computed before dgamma is written, so dgamma may be gamma itself (a
// fused SGD step).
void batch_norm_backward(float* dx, bool dx_accumulate, float* dgamma, float* dbeta, const float* dy, const float* x,
                         const float* mean, const float* inv_std, const float* gamma, int64_t N, int64_t F,
                         float alpha, bool accumulate, float* scratch);

}  // namespace kiln::cpu
