#include "kernels/cpu/losses.hpp"

#include <algorithm>
#include <cmath>

namespace kiln::cpu {

double sparse_xent_probs_forward(const float* p, const int32_t* y, int64_t B, int64_t C) {
  double total = 0.0;
  for (int64_t r = 0; r < B; ++r) {
    float py = std::clamp(p[r * C + y[r]], kEpsilon, 1.0f - kEpsilon);
    total -= std::log(py);
  }
  return total;
}

void sparse_xent_probs_backward(float* dp, const float* p, const int32_t* y, int64_t B, int64_t C,
                                float scale) {
  for (int64_t r = 0; r < B; ++r) {
    float* d = dp + r * C;
    std::fill(d, d + C, 0.0f);
    float py = p[r * C + y[r]];
    // The clip has zero gradient outside [eps, 1 - eps], as in Keras.
    if (py >= kEpsilon && py <= 1.0f - kEpsilon) d[y[r]] = -1.0f / (py * scale);
  }
}

double sparse_xent_logits_forward(const float* z, const int32_t* y, int64_t B, int64_t C) {
  double total = 0.0;
  for (int64_t r = 0; r < B; ++r) {
    const float* row = z + r * C;
    float mx = *std::max_element(row, row + C);
    double sum = 0.0;
    for (int64_t j = 0; j < C; ++j) sum += std::exp(static_cast<double>(row[j] - mx));
    total += std::log(sum) + mx - row[y[r]];
  }
  return total;
}

void sparse_xent_logits_backward(float* dz, const float* z, const int32_t* y, int64_t B, int64_t C,
                                 float scale) {
  for (int64_t r = 0; r < B; ++r) {
    const float* row = z + r * C;
    float* d = dz + r * C;
    float mx = *std::max_element(row, row + C);
    float sum = 0.0f;
    for (int64_t j = 0; j < C; ++j) sum += (d[j] = std::exp(row[j] - mx));
    for (int64_t j = 0; j < C; ++j) d[j] /= sum;
  }
  softmax_xent_backward(dz, dz, y, B, C, scale);
}

void softmax_xent_backward(float* dz, const float* p, const int32_t* y, int64_t B, int64_t C,
                           float scale) {
  float inv = 1.0f / scale;
  for (int64_t r = 0; r < B; ++r) {
    for (int64_t j = 0; j < C; ++j) dz[r * C + j] = p[r * C + j] * inv;
    dz[r * C + y[r]] -= inv;
  }
}

}  // namespace kiln::cpu
