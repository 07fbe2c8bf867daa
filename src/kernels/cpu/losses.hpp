// Sparse categorical cross-entropy over a batch, fused with softmax where the model allows.
#pragma once

#include <cstdint>

namespace kiln::cpu {

// Keras clips probabilities to [kEpsilon, 1 - kEpsilon] before taking the log.
constexpr float kEpsilon = 1e-7f;

// Sum over the batch of -log(clip(p[y])) for probabilities p (B,C) and labels y (B).
double sparse_xent_probs_forward(const float* p, const int32_t* y, int64_t B, int64_t C);
// dp (B,C) = d(mean loss)/dp, scaled by 1/scale (scale = batch size for the mean).
void sparse_xent_probs_backward(float* dp, const float* p, const int32_t* y, int64_t B, int64_t C,
                                float scale);

// Sum over the batch of logsumexp(z) - z[y] for logits z (B,C).
double sparse_xent_logits_forward(const float* z, const int32_t* y, int64_t B, int64_t C);
// dz (B,C) = (softmax(z) - onehot(y)) / scale.
void sparse_xent_logits_backward(float* dz, const float* z, const int32_t* y, int64_t B, int64_t C,
                                 float scale);

// dz (B,C) = (p - onehot(y)) / scale: softmax and cross-entropy differentiated together, given
// the softmax output p. Exact where the separate backward passes would divide by a tiny p[y].
void softmax_xent_backward(float* dz, const float* p, const int32_t* y, int64_t B, int64_t C,
                           float scale);

}  // namespace kiln::cpu
