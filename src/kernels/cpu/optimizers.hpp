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

// Keras Adam with amsgrad: as adam_update, with v_hat = max(v_hat, v) in place of v.
void amsgrad_update(float* w, const float* g, float* m, float* v, float* v_hat, int64_t n, float lr,
                    float beta1, float beta2, float epsilon, int64_t t);

// Keras RMSprop: v = rho v + (1 - rho) g^2; with avg_g (centered), avg_g = rho avg_g + (1 - rho) g
// and d = v - avg_g^2 + epsilon, else d = v + epsilon; step = lr g / sqrt(d); with s (momentum),
// s = momentum s + step and w -= s, else w -= step. s and avg_g may be null.
void rmsprop_update(float* w, const float* g, float* v, float* s, float* avg_g, int64_t n, float lr,
                    float rho, float momentum, float epsilon);

// Keras Adagrad: a += g^2; w -= lr g / sqrt(a + epsilon).
void adagrad_update(float* w, const float* g, float* a, int64_t n, float lr, float epsilon);

// Keras Adamax at step t (1-based): m += (g - m)(1 - b1); u = max(b2 u, |g|);
// w -= lr m / ((1 - b1^t)(u + epsilon)).
void adamax_update(float* w, const float* g, float* m, float* u, int64_t n, float lr, float beta1,
                   float beta2, float epsilon, int64_t t);

// One Nadam step's coefficients, worked out once per step in double (see optimizers.hpp):
// m_coef = mu_{t+1} / (1 - P_t mu_{t+1}), g_coef = (1 - mu_t) / (1 - P_t),
// v_coef = 1 / (1 - beta_2^t).
struct NadamStep {
  float lr, beta1, beta2, epsilon, m_coef, g_coef, v_coef;
};
// Keras Nadam: m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2);
// w -= lr (m_coef m + g_coef g) / (sqrt(v_coef v) + epsilon).
void nadam_update(float* w, const float* g, float* m, float* v, int64_t n, const NadamStep& step);

// Keras Lion: w -= lr sign(b1 m + (1 - b1) g); m = b2 m + (1 - b2) g (sign(0) = 0).
void lion_update(float* w, const float* g, float* m, int64_t n, float lr, float beta1, float beta2);

// The pieces of gradient clipping: dst = clamp(src, lo, hi); dst = src * scale; and the sum of
// squares of n values (float partial sums, added in double).
void clip_values(float* dst, const float* src, int64_t n, float lo, float hi);
void scale_values(float* dst, const float* src, int64_t n, float scale);
double sum_squares(const float* x, int64_t n);

}  // namespace kiln::cpu
