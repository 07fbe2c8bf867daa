// Optimizer updates over flat parameter arenas.
#pragma once

#include <cstdint>

#include "kernels/cpu/isa.hpp"

namespace kiln::cpu {

// Keras SGD: v = momentum * v - lr * g; w += v (nesterov: w += momentum * v - lr * g).
// With momentum 0, w -= lr * g and v is not touched (may be null). w, g, v have n elements.
void sgd_update(float* w, const float* g, float* v, int64_t n, float lr, float momentum,
                bool nesterov);

// Keras's decoupled weight decay: w -= w * rate (rate = weight_decay * learning_rate).
void decay_weights(float* w, int64_t n, float rate);

// Keras's moving average of the weights: avg = momentum * avg + (1 - momentum) * w.
void moving_average(float* avg, const float* w, int64_t n, float momentum);

// Keras Adam at step t (1-based): m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
// w -= lr_t * m / (sqrt(v) + eps) with lr_t = lr sqrt(1-b2^t) / (1-b1^t).
void adam_update(float* w, const float* g, float* m, float* v, int64_t n, float lr, float beta1,
                 float beta2, float epsilon, int64_t t);
// The same with a given instruction set (which the CPU must support), for tests: every one gives
// the same bits.
void adam_update_with(Isa isa, float* w, const float* g, float* m, float* v, int64_t n, float lr,
                      float beta1, float beta2, float epsilon, int64_t t);

}  // namespace kiln::cpu
