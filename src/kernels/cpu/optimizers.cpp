#include "kernels/cpu/optimizers.hpp"

#include <algorithm>
#include <cmath>

#include "kernels/cpu/thread_pool.hpp"

namespace kiln::cpu {

namespace {
// Element-wise updates split across the pool: each thread updates its own range.
constexpr int64_t kGrain = 1 << 14;
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

void adam_update(float* w, const float* g, float* m, float* v, int64_t n, float lr, float beta1,
                 float beta2, float epsilon, int64_t t) {
  double c1 = 1.0 - std::pow(static_cast<double>(beta1), static_cast<double>(t));
  double c2 = 1.0 - std::pow(static_cast<double>(beta2), static_cast<double>(t));
  float lr_t = static_cast<float>(lr * std::sqrt(c2) / c1);
  ThreadPool::global().run_ranges(n, kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      m[i] = beta1 * m[i] + (1.0f - beta1) * g[i];
      v[i] = beta2 * v[i] + (1.0f - beta2) * g[i] * g[i];
      w[i] -= lr_t * m[i] / (std::sqrt(v[i]) + epsilon);
    }
  });
}

}  // namespace kiln::cpu
