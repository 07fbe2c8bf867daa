#include "kernels/cpu/regression_losses.hpp"

#include <cmath>

namespace kiln::cpu {

namespace {

// Sum over the batch of w[r] * mean_j f(o - t) in double.
template <typename F>
double mean_rows(const float* o, TargetRows t, const float* w, int64_t B, int64_t C, F&& f) {
  double total = 0.0;
  for (int64_t r = 0; r < B; ++r) {
    double loss = 0.0;
    for (int64_t j = 0; j < C; ++j) loss += f(static_cast<double>(o[r * C + j]) - t.at(r, j, C));
    loss /= static_cast<double>(C);
    total += w ? w[r] * loss : loss;
  }
  return total;
}

// d[r, j] = w[r] f'(o - t) / (C scale).
template <typename F>
void mean_rows_backward(float* d, const float* o, TargetRows t, const float* w, int64_t B,
                        int64_t C, float scale, F&& df) {
  for (int64_t r = 0; r < B; ++r) {
    const float s = (w ? w[r] : 1.0f) / (scale * static_cast<float>(C));
    for (int64_t j = 0; j < C; ++j) d[r * C + j] = df(o[r * C + j] - t.at(r, j, C)) * s;
  }
}

float sign(float e) { return static_cast<float>((e > 0) - (e < 0)); }

}  // namespace

double mse_forward(const float* o, TargetRows t, const float* w, int64_t B, int64_t C) {
  return mean_rows(o, t, w, B, C, [](double e) { return e * e; });
}

void mse_backward(float* d, const float* o, TargetRows t, const float* w, int64_t B, int64_t C,
                  float scale) {
  mean_rows_backward(d, o, t, w, B, C, scale, [](float e) { return 2.0f * e; });
}

double mae_forward(const float* o, TargetRows t, const float* w, int64_t B, int64_t C) {
  return mean_rows(o, t, w, B, C, [](double e) { return std::abs(e); });
}

void mae_backward(float* d, const float* o, TargetRows t, const float* w, int64_t B, int64_t C,
                  float scale) {
  mean_rows_backward(d, o, t, w, B, C, scale, sign);
}

double huber_forward(const float* o, TargetRows t, const float* w, int64_t B, int64_t C,
                     float delta) {
  const double dl = delta;
  return mean_rows(o, t, w, B, C, [dl](double e) {
    const double a = std::abs(e);
    return a <= dl ? 0.5 * e * e : dl * a - 0.5 * dl * dl;
  });
}

void huber_backward(float* d, const float* o, TargetRows t, const float* w, int64_t B, int64_t C,
                    float delta, float scale) {
  mean_rows_backward(d, o, t, w, B, C, scale,
                     [delta](float e) { return std::abs(e) <= delta ? e : delta * sign(e); });
}

}  // namespace kiln::cpu
