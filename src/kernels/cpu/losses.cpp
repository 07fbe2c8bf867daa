#include "kernels/cpu/losses.hpp"

#include <algorithm>
#include <cmath>

namespace kiln::cpu {

namespace {

// The smoothed target of row r, value j.
float smoothed(const TargetRows& t, int64_t r, int64_t j, int64_t C, float keep, float add) {
  return t.at(r, j, C) * keep + add;
}

float sigmoid(float z) {
  if (z >= 0) return 1.0f / (1.0f + std::exp(-z));
  const float e = std::exp(z);
  return e / (1.0f + e);
}

// Writes softmax(z) of each row into p (which may be z).
void softmax_rows(float* p, const float* z, int64_t B, int64_t C) {
  for (int64_t r = 0; r < B; ++r) {
    const float* row = z + r * C;
    float* d = p + r * C;
    float mx = *std::max_element(row, row + C);
    float sum = 0.0f;
    for (int64_t j = 0; j < C; ++j) sum += (d[j] = std::exp(row[j] - mx));
    for (int64_t j = 0; j < C; ++j) d[j] /= sum;
  }
}

}  // namespace

double sparse_xent_probs_forward(const float* p, const int32_t* y, const float* w, int64_t B,
                                 int64_t C) {
  double total = 0.0;
  for (int64_t r = 0; r < B; ++r) {
    float py = std::clamp(p[r * C + y[r]], kEpsilon, 1.0f - kEpsilon);
    const float loss = std::log(py);
    total -= w ? static_cast<double>(w[r]) * loss : loss;
  }
  return total;
}

void sparse_xent_probs_backward(float* dp, const float* p, const int32_t* y, const float* w,
                                int64_t B, int64_t C, float scale) {
  for (int64_t r = 0; r < B; ++r) {
    float* d = dp + r * C;
    std::fill(d, d + C, 0.0f);
    float py = p[r * C + y[r]];
    // The clip has zero gradient outside [eps, 1 - eps], as in Keras.
    if (py >= kEpsilon && py <= 1.0f - kEpsilon) d[y[r]] = -(w ? w[r] : 1.0f) / (py * scale);
  }
}

double sparse_xent_logits_forward(const float* z, const int32_t* y, const float* w, int64_t B,
                                  int64_t C) {
  double total = 0.0;
  for (int64_t r = 0; r < B; ++r) {
    const float* row = z + r * C;
    float mx = *std::max_element(row, row + C);
    double sum = 0.0;
    for (int64_t j = 0; j < C; ++j) sum += std::exp(static_cast<double>(row[j] - mx));
    const double loss = std::log(sum) + mx - row[y[r]];
    total += w ? w[r] * loss : loss;
  }
  return total;
}

void sparse_xent_logits_backward(float* dz, const float* z, const int32_t* y, const float* w,
                                 int64_t B, int64_t C, float scale) {
  softmax_rows(dz, z, B, C);
  softmax_xent_backward(dz, dz, y, w, B, C, scale);
}

void softmax_xent_backward(float* dz, const float* p, const int32_t* y, const float* w, int64_t B,
                           int64_t C, float scale) {
  float inv = 1.0f / scale;
  for (int64_t r = 0; r < B; ++r) {
    const float s = w ? w[r] * inv : inv;
    for (int64_t j = 0; j < C; ++j) dz[r * C + j] = p[r * C + j] * s;
    dz[r * C + y[r]] -= s;
  }
}

double xent_probs_forward(const float* p, TargetRows t, const float* w, int64_t B, int64_t C,
                          float smoothing) {
  const float keep = 1.0f - smoothing, add = smoothing / static_cast<float>(C);
  double total = 0.0;
  for (int64_t r = 0; r < B; ++r) {
    const float* row = p + r * C;
    double sum = 0.0;
    for (int64_t j = 0; j < C; ++j) sum += row[j];
    const float S = static_cast<float>(sum);
    double loss = 0.0;
    for (int64_t j = 0; j < C; ++j) {
      const float q = std::clamp(row[j] / S, kEpsilon, 1.0f - kEpsilon);
      loss -= smoothed(t, r, j, C, keep, add) * std::log(static_cast<double>(q));
    }
    total += w ? w[r] * loss : loss;
  }
  return total;
}

// With q = p / S clipped and g_k = -t'_k / q_k where q_k is inside the clip (0 elsewhere):
// dL/dp_k = (g_k + sum_j t'_j [q_j inside]) / S.
void xent_probs_backward(float* dp, const float* p, TargetRows t, const float* w, int64_t B,
                         int64_t C, float smoothing, float scale) {
  const float keep = 1.0f - smoothing, add = smoothing / static_cast<float>(C);
  auto inside = [](float q) { return q >= kEpsilon && q <= 1.0f - kEpsilon; };
  for (int64_t r = 0; r < B; ++r) {
    const float* row = p + r * C;
    float* d = dp + r * C;
    double sum = 0.0;
    for (int64_t j = 0; j < C; ++j) sum += row[j];
    const float S = static_cast<float>(sum);
    float inside_targets = 0.0f;
    for (int64_t j = 0; j < C; ++j)
      if (inside(row[j] / S)) inside_targets += smoothed(t, r, j, C, keep, add);
    const float s = (w ? w[r] : 1.0f) / (scale * S);
    for (int64_t j = 0; j < C; ++j) {
      const float q = row[j] / S;
      const float g = inside(q) ? -smoothed(t, r, j, C, keep, add) / q : 0.0f;
      d[j] = (g + inside_targets) * s;
    }
  }
}

double xent_logits_forward(const float* z, TargetRows t, const float* w, int64_t B, int64_t C,
                           float smoothing) {
  const float keep = 1.0f - smoothing, add = smoothing / static_cast<float>(C);
  double total = 0.0;
  for (int64_t r = 0; r < B; ++r) {
    const float* row = z + r * C;
    float mx = *std::max_element(row, row + C);
    double sum = 0.0;
    for (int64_t j = 0; j < C; ++j) sum += std::exp(static_cast<double>(row[j] - mx));
    const double lse = std::log(sum) + mx;
    double loss = 0.0;
    for (int64_t j = 0; j < C; ++j) loss += smoothed(t, r, j, C, keep, add) * (lse - row[j]);
    total += w ? w[r] * loss : loss;
  }
  return total;
}

void xent_logits_backward(float* dz, const float* z, TargetRows t, const float* w, int64_t B,
                          int64_t C, float smoothing, float scale, bool z_is_softmax) {
  const float keep = 1.0f - smoothing, add = smoothing / static_cast<float>(C);
  if (!z_is_softmax) softmax_rows(dz, z, B, C);
  const float* p = z_is_softmax ? z : dz;
  for (int64_t r = 0; r < B; ++r) {
    float T = 0.0f;
    for (int64_t j = 0; j < C; ++j) T += smoothed(t, r, j, C, keep, add);
    const float s = (w ? w[r] : 1.0f) / scale;
    for (int64_t j = 0; j < C; ++j)
      dz[r * C + j] = (T * p[r * C + j] - smoothed(t, r, j, C, keep, add)) * s;
  }
}

double bce_probs_forward(const float* p, TargetRows t, const float* w, int64_t B, int64_t C,
                         float smoothing) {
  const float keep = 1.0f - smoothing, add = 0.5f * smoothing;
  double total = 0.0;
  for (int64_t r = 0; r < B; ++r) {
    double loss = 0.0;
    for (int64_t j = 0; j < C; ++j) {
      const double pc = std::clamp(p[r * C + j], kEpsilon, 1.0f - kEpsilon);
      const double tj = smoothed(t, r, j, C, keep, add);
      loss -= tj * std::log(pc) + (1.0 - tj) * std::log(1.0 - pc);
    }
    loss /= static_cast<double>(C);
    total += w ? w[r] * loss : loss;
  }
  return total;
}

void bce_probs_backward(float* dp, const float* p, TargetRows t, const float* w, int64_t B,
                        int64_t C, float smoothing, float scale) {
  const float keep = 1.0f - smoothing, add = 0.5f * smoothing;
  for (int64_t r = 0; r < B; ++r) {
    const float s = (w ? w[r] : 1.0f) / (scale * static_cast<float>(C));
    for (int64_t j = 0; j < C; ++j) {
      const float pj = p[r * C + j], tj = smoothed(t, r, j, C, keep, add);
      const bool inside = pj >= kEpsilon && pj <= 1.0f - kEpsilon;
      dp[r * C + j] = inside ? -(tj / pj - (1.0f - tj) / (1.0f - pj)) * s : 0.0f;
    }
  }
}

double bce_logits_forward(const float* z, TargetRows t, const float* w, int64_t B, int64_t C,
                          float smoothing) {
  const float keep = 1.0f - smoothing, add = 0.5f * smoothing;
  double total = 0.0;
  for (int64_t r = 0; r < B; ++r) {
    double loss = 0.0;
    for (int64_t j = 0; j < C; ++j) {
      const double zj = z[r * C + j], tj = smoothed(t, r, j, C, keep, add);
      loss += std::max(zj, 0.0) - zj * tj + std::log1p(std::exp(-std::abs(zj)));
    }
    loss /= static_cast<double>(C);
    total += w ? w[r] * loss : loss;
  }
  return total;
}

void bce_logits_backward(float* dz, const float* z, TargetRows t, const float* w, int64_t B,
                         int64_t C, float smoothing, float scale, bool z_is_sigmoid) {
  const float keep = 1.0f - smoothing, add = 0.5f * smoothing;
  for (int64_t r = 0; r < B; ++r) {
    const float s = (w ? w[r] : 1.0f) / (scale * static_cast<float>(C));
    for (int64_t j = 0; j < C; ++j) {
      const float zj = z[r * C + j], pj = z_is_sigmoid ? zj : sigmoid(zj);
      dz[r * C + j] = (pj - smoothed(t, r, j, C, keep, add)) * s;
    }
  }
}

}  // namespace kiln::cpu
