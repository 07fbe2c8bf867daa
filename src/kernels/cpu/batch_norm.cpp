#include "kernels/cpu/batch_norm.hpp"

#include <cmath>
#include <vector>

#include "kernels/cpu/thread_pool.hpp"

namespace kiln::cpu {

void batch_norm_statistics(float* mean, float* variance, float* inv_std, const float* x, int64_t N, int64_t F,
                           float epsilon) {
  // Two passes per feature, in double: one for the mean, one for the squared deviations, so a
  // feature with a large mean keeps its variance's digits.
  ThreadPool::global().run_rows(F, N, [&](int64_t f0, int64_t f1) {
    for (int64_t f = f0; f < f1; ++f) {
      double sum = 0;
      for (int64_t i = 0; i < N; ++i) sum += x[i * F + f];
      const double m = sum / static_cast<double>(N);
      double sq = 0;
      for (int64_t i = 0; i < N; ++i) {
        const double d = x[i * F + f] - m;
        sq += d * d;
      }
      const double v = sq / static_cast<double>(N);
      mean[f] = static_cast<float>(m);
      variance[f] = static_cast<float>(v);
      inv_std[f] = static_cast<float>(1.0 / std::sqrt(v + epsilon));
    }
  });
}

void batch_norm_apply(float* y, const float* x, const float* a, const float* b, int64_t N, int64_t F) {
  ThreadPool::global().run_rows(N, F, [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i)
      for (int64_t f = 0; f < F; ++f) y[i * F + f] = x[i * F + f] * a[f] + b[f];
  });
}

void batch_norm_backward(float* dx, bool dx_accumulate, float* dgamma, float* dbeta, const float* dy, const float* x,
                         const float* mean, const float* inv_std, const float* gamma, int64_t N, int64_t F,
                         float alpha, bool accumulate, float* sums) {
  // sums: sum of dy (F) then sum of dy * xhat (F), per feature.
  float* sum_dy = sums;
  float* sum_dy_xhat = sums + F;
  ThreadPool::global().run_rows(F, N, [&](int64_t f0, int64_t f1) {
    for (int64_t f = f0; f < f1; ++f) {
      double s = 0, sx = 0;
      for (int64_t i = 0; i < N; ++i) {
        const double g = dy[i * F + f];
        s += g;
        sx += g * (x[i * F + f] - mean[f]) * inv_std[f];
      }
      sum_dy[f] = static_cast<float>(s);
      sum_dy_xhat[f] = static_cast<float>(sx);
    }
  });
  if (dx) {
    const float n = static_cast<float>(N);
    ThreadPool::global().run_rows(N, F, [&](int64_t r0, int64_t r1) {
      for (int64_t i = r0; i < r1; ++i)
        for (int64_t f = 0; f < F; ++f) {
          const float xhat = (x[i * F + f] - mean[f]) * inv_std[f];
          const float scale = (gamma ? gamma[f] : 1.0f) * inv_std[f] / n;
          const float g = scale * (n * dy[i * F + f] - sum_dy[f] - xhat * sum_dy_xhat[f]);
          dx[i * F + f] = dx_accumulate ? dx[i * F + f] + g : g;
        }
    });
  }
  for (int64_t f = 0; f < F; ++f) {
    if (dgamma) dgamma[f] = (accumulate ? dgamma[f] : 0.0f) + alpha * sum_dy_xhat[f];
    if (dbeta) dbeta[f] = (accumulate ? dbeta[f] : 0.0f) + alpha * sum_dy[f];
  }
}

}  // namespace kiln::cpu
