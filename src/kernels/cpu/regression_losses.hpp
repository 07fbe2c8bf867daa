// Mean squared error, mean absolute error and Huber over a batch: each the mean over a sample's
// C values, summed over the batch with optional per-sample weights w (B; null: all 1).
#pragma once

#include <cstdint>

#include "kernels/cpu/losses.hpp"

namespace kiln::cpu {

// Sum over the batch of w[r] * mean_j (o - t)^2 for outputs o (B,C).
double mse_forward(const float* o, TargetRows t, const float* w, int64_t B, int64_t C);
// d (B,C) = w[r] 2 (o - t) / (C scale).
void mse_backward(float* d, const float* o, TargetRows t, const float* w, int64_t B, int64_t C,
                  float scale);

// Sum over the batch of w[r] * mean_j |o - t|.
double mae_forward(const float* o, TargetRows t, const float* w, int64_t B, int64_t C);
// d (B,C) = w[r] sign(o - t) / (C scale), sign(0) = 0.
void mae_backward(float* d, const float* o, TargetRows t, const float* w, int64_t B, int64_t C,
                  float scale);

// Sum over the batch of w[r] * mean_j h(o - t), h(e) = e^2 / 2 for |e| <= delta, else
// delta |e| - delta^2 / 2.
double huber_forward(const float* o, TargetRows t, const float* w, int64_t B, int64_t C,
                     float delta);
// d (B,C) = w[r] h'(o - t) / (C scale), h'(e) = e for |e| <= delta, else delta sign(e).
void huber_backward(float* d, const float* o, TargetRows t, const float* w, int64_t B, int64_t C,
                    float delta, float scale);

}  // namespace kiln::cpu
