#include "kernels/cpu/batch_norm.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/cpu/thread_pool.hpp"

namespace kiln::cpu {

namespace {

constexpr int64_t kChunkRows = 256;
int64_t chunks(int64_t N) { return (N + kChunkRows - 1) / kChunkRows; }

// The scratch as doubles (the arena is 64-byte aligned; only this file reads it, as doubles).
double* doubles(float* scratch) { return reinterpret_cast<double*>(scratch); }

// sums (K * F) = the sums over all rows of what row(i, acc) adds into acc (K * F doubles), each
// chunk of rows into its own partial sums, then the chunks in order.
template <int K, typename Row>
void column_sums(double* sums, int64_t N, int64_t F, Row&& row) {
  double* partial = sums + K * F;
  const int64_t n = chunks(N);
  ThreadPool::global().run_rows(n, kChunkRows * F, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      double* acc = partial + c * K * F;
      std::fill_n(acc, K * F, 0.0);
      for (int64_t i = c * kChunkRows; i < std::min(N, (c + 1) * kChunkRows); ++i) row(i, acc);
    }
  });
  std::fill_n(sums, K * F, 0.0);
  for (int64_t c = 0; c < n; ++c)
    for (int64_t j = 0; j < K * F; ++j) sums[j] += partial[c * K * F + j];
}

}  // namespace

int64_t batch_norm_scratch(int64_t N, int64_t F) { return 2 * (2 * F * (chunks(N) + 1)); }

void batch_norm_statistics(float* mean, float* variance, float* inv_std, const float* x, int64_t N, int64_t F,
                           float epsilon, float* scratch) {
  // Two passes, so that a feature with a large mean keeps its variance's digits.
  double* sums = doubles(scratch);
  column_sums<1>(sums, N, F, [&](int64_t i, double* acc) {
    for (int64_t f = 0; f < F; ++f) acc[f] += x[i * F + f];
  });
  for (int64_t f = 0; f < F; ++f) mean[f] = static_cast<float>(sums[f] / static_cast<double>(N));
  column_sums<1>(sums, N, F, [&](int64_t i, double* acc) {
    for (int64_t f = 0; f < F; ++f) {
      const double d = static_cast<double>(x[i * F + f]) - mean[f];
      acc[f] += d * d;
    }
  });
  for (int64_t f = 0; f < F; ++f) {
    const double v = sums[f] / static_cast<double>(N);
    variance[f] = static_cast<float>(v);
    inv_std[f] = static_cast<float>(1.0 / std::sqrt(v + epsilon));
  }
}

void batch_norm_apply(float* y, const float* x, const float* a, const float* b, int64_t N, int64_t F) {
  ThreadPool::global().run_rows(N, F, [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i)
      for (int64_t f = 0; f < F; ++f) y[i * F + f] = x[i * F + f] * a[f] + b[f];
  });
}

void batch_norm_backward(float* dx, bool dx_accumulate, float* dgamma, float* dbeta, const float* dy, const float* x,
                         const float* mean, const float* inv_std, const float* gamma, int64_t N, int64_t F,
                         float alpha, bool accumulate, float* scratch) {
  // sums: the sum of dy (F), then of dy * xhat (F), per feature.
  double* sums = doubles(scratch);
  column_sums<2>(sums, N, F, [&](int64_t i, double* acc) {
    for (int64_t f = 0; f < F; ++f) {
      const double g = dy[i * F + f];
      acc[f] += g;
      acc[F + f] += g * ((x[i * F + f] - mean[f]) * inv_std[f]);
    }
  });
  const double* sum_dy = sums;
  const double* sum_dy_xhat = sums + F;
  if (dx) {
    const auto n = static_cast<float>(N);
    ThreadPool::global().run_rows(N, F, [&](int64_t r0, int64_t r1) {
      for (int64_t i = r0; i < r1; ++i)
        for (int64_t f = 0; f < F; ++f) {
          const float xhat = (x[i * F + f] - mean[f]) * inv_std[f];
          const float scale = (gamma ? gamma[f] : 1.0f) * inv_std[f] / n;
          const float g = scale * (n * dy[i * F + f] - static_cast<float>(sum_dy[f]) -
                                   xhat * static_cast<float>(sum_dy_xhat[f]));
          dx[i * F + f] = dx_accumulate ? dx[i * F + f] + g : g;
        }
    });
  }
  for (int64_t f = 0; f < F; ++f) {
    if (dgamma) dgamma[f] = (accumulate ? dgamma[f] : 0.0f) + alpha * static_cast<float>(sum_dy_xhat[f]);
    if (dbeta) dbeta[f] = (accumulate ? dbeta[f] : 0.0f) + alpha * static_cast<float>(sum_dy[f]);
  }
}

}  // namespace kiln::cpu
