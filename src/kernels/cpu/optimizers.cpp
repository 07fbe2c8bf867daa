#include "kernels/cpu/optimizers.hpp"

#include <algorithm>
#include <cmath>

#include "kernels/cpu/isa.hpp"
#include "kernels/cpu/thread_pool.hpp"

namespace kiln::cpu {

namespace {
// Element-wise updates split across the pool: each thread updates its own range.
constexpr int64_t kGrain = 1 << 14;

struct AdamStep {
  float beta1, beta2, lr_t, epsilon;
};

// Adam over n elements. This file is compiled with -fno-math-errno, so that the square root
// vectorizes (a scalar sqrtss and divss per weight, and a check for errno, made the update
// 680 µs a step for the seed model's 266,610 weights, twice the rest of the step).
inline __attribute__((always_inline)) void adam_range(float* w, const float* g, float* m, float* v,
                                                      int64_t n, const AdamStep& s) {
  for (int64_t i = 0; i < n; ++i) {
    m[i] = s.beta1 * m[i] + (1.0f - s.beta1) * g[i];
    v[i] = s.beta2 * v[i] + (1.0f - s.beta2) * g[i] * g[i];
    w[i] -= s.lr_t * m[i] / (std::sqrt(v[i]) + s.epsilon);
  }
}

// The baseline and AVX2 instances. AVX2 without FMA: every instruction set then rounds each
// operation alike, and the update is the same to the bit wherever it runs.
void adam_range_baseline(float* w, const float* g, float* m, float* v, int64_t n,
                         const AdamStep& s) {
  adam_range(w, g, m, v, n, s);
}
#if KILN_X86_64
__attribute__((target("avx2"))) void adam_range_avx2(float* w, const float* g, float* m, float* v,
                                                     int64_t n, const AdamStep& s) {
  adam_range(w, g, m, v, n, s);
}
#endif

}  // namespace

void sgd_update(float* w, const float* g, float* v, int64_t n, float lr, float momentum,
                bool nesterov) {
  ThreadPool::global().run_ranges(n, kGrain, [&](int64_t begin, int64_t end) {
    if (momentum == 0.0f) {
      for (int64_t i = begin; i < end; ++i) w[i] -= lr * g[i];
      return;
    }
    for (int64_t i = begin; i < end; ++i) {
      v[i] = momentum * v[i] - lr * g[i];
      w[i] += nesterov ? momentum * v[i] - lr * g[i] : v[i];
    }
  });
}

void decay_weights(float* w, int64_t n, float rate) {
  ThreadPool::global().run_ranges(n, kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) w[i] -= w[i] * rate;
  });
}

void moving_average(float* avg, const float* w, int64_t n, float momentum) {
  ThreadPool::global().run_ranges(n, kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) avg[i] = momentum * avg[i] + (1.0f - momentum) * w[i];
  });
}

void adam_update_with(Isa isa, float* w, const float* g, float* m, float* v, int64_t n, float lr,
                      float beta1, float beta2, float epsilon, int64_t t) {
  double c1 = 1.0 - std::pow(static_cast<double>(beta1), static_cast<double>(t));
  double c2 = 1.0 - std::pow(static_cast<double>(beta2), static_cast<double>(t));
  const AdamStep step{beta1, beta2, static_cast<float>(lr * std::sqrt(c2) / c1), epsilon};
  auto range = adam_range_baseline;
#if KILN_X86_64
  if (isa >= Isa::kAvx2) range = adam_range_avx2;
#else
  (void)isa;
#endif
  ThreadPool::global().run_ranges(n, kGrain, [&](int64_t begin, int64_t end) {
    range(w + begin, g + begin, m + begin, v + begin, end - begin, step);
  });
}

void adam_update(float* w, const float* g, float* m, float* v, int64_t n, float lr, float beta1,
                 float beta2, float epsilon, int64_t t) {
  adam_update_with(best_isa(), w, g, m, v, n, lr, beta1, beta2, epsilon, t);
}

}  // namespace kiln::cpu
