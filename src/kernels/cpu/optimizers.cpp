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

void amsgrad_update(float* w, const float* g, float* m, float* v, float* v_hat, int64_t n, float lr,
                    float beta1, float beta2, float epsilon, int64_t t) {
  const double c1 = 1.0 - std::pow(static_cast<double>(beta1), static_cast<double>(t));
  const double c2 = 1.0 - std::pow(static_cast<double>(beta2), static_cast<double>(t));
  const auto lr_t = static_cast<float>(lr * std::sqrt(c2) / c1);
  ThreadPool::global().run_ranges(n, kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      m[i] = beta1 * m[i] + (1.0f - beta1) * g[i];
      v[i] = beta2 * v[i] + (1.0f - beta2) * g[i] * g[i];
      v_hat[i] = std::max(v_hat[i], v[i]);
      w[i] -= lr_t * m[i] / (std::sqrt(v_hat[i]) + epsilon);
    }
  });
}

void rmsprop_update(float* w, const float* g, float* v, float* s, float* avg_g, int64_t n, float lr,
                    float rho, float momentum, float epsilon) {
  ThreadPool::global().run_ranges(n, kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      v[i] = rho * v[i] + (1.0f - rho) * g[i] * g[i];
      float d = v[i] + epsilon;
      if (avg_g) {
        avg_g[i] = rho * avg_g[i] + (1.0f - rho) * g[i];
        d = v[i] - avg_g[i] * avg_g[i] + epsilon;
      }
      const float step = lr * g[i] / std::sqrt(d);
      if (s) {
        s[i] = momentum * s[i] + step;
        w[i] -= s[i];
      } else {
        w[i] -= step;
      }
    }
  });
}

void adagrad_update(float* w, const float* g, float* a, int64_t n, float lr, float epsilon) {
  ThreadPool::global().run_ranges(n, kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      a[i] += g[i] * g[i];
      w[i] -= lr * g[i] / std::sqrt(a[i] + epsilon);
    }
  });
}

void adamax_update(float* w, const float* g, float* m, float* u, int64_t n, float lr, float beta1,
                   float beta2, float epsilon, int64_t t) {
  const auto c1 = static_cast<float>(1.0 - std::pow(static_cast<double>(beta1), static_cast<double>(t)));
  ThreadPool::global().run_ranges(n, kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      m[i] += (g[i] - m[i]) * (1.0f - beta1);
      u[i] = std::max(beta2 * u[i], std::fabs(g[i]));
      w[i] -= lr * m[i] / (c1 * (u[i] + epsilon));
    }
  });
}

void nadam_update(float* w, const float* g, float* m, float* v, int64_t n, const NadamStep& s) {
  ThreadPool::global().run_ranges(n, kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      m[i] += (g[i] - m[i]) * (1.0f - s.beta1);
      v[i] += (g[i] * g[i] - v[i]) * (1.0f - s.beta2);
      const float m_hat = s.m_coef * m[i] + s.g_coef * g[i];
      w[i] -= s.lr * m_hat / (std::sqrt(s.v_coef * v[i]) + s.epsilon);
    }
  });
}

void lion_update(float* w, const float* g, float* m, int64_t n, float lr, float beta1, float beta2) {
  ThreadPool::global().run_ranges(n, kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const float c = beta1 * m[i] + (1.0f - beta1) * g[i];
      w[i] -= lr * static_cast<float>((c > 0.0f) - (c < 0.0f));
      m[i] = beta2 * m[i] + (1.0f - beta2) * g[i];
    }
  });
}

void clip_values(float* dst, const float* src, int64_t n, float lo, float hi) {
  for (int64_t i = 0; i < n; ++i) dst[i] = std::clamp(src[i], lo, hi);
}

void scale_values(float* dst, const float* src, int64_t n, float scale) {
  for (int64_t i = 0; i < n; ++i) dst[i] = src[i] * scale;
}

// Blocks of 8 independent float sums (which vectorize), each block's total added in double.
double sum_squares(const float* x, int64_t n) {
  constexpr int64_t kBlock = 4096;
  double total = 0;
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t end = std::min(n, b + kBlock);
    float acc[8] = {};
    int64_t i = b;
    for (; i + 8 <= end; i += 8)
      for (int k = 0; k < 8; ++k) acc[k] += x[i + k] * x[i + k];
    float tail = 0;
    for (; i < end; ++i) tail += x[i] * x[i];
    for (float a : acc) total += a;
    total += tail;
  }
  return total;
}

}  // namespace kiln::cpu
