// The cross-entropies over a batch (sparse, categorical, binary), fused with softmax or sigmoid
// where the model allows. Every function takes optional per-sample weights w (B; null: all 1).
#pragma once

#include <cstdint>

namespace kiln::cpu {

// Keras clips probabilities to [kEpsilon, 1 - kEpsilon] before taking the log.
constexpr float kEpsilon = 1e-7f;

// A batch's targets as the kernels read them: float values (B,C), or integer labels (B) standing
// for one-hot rows (labels_are_values false) or, with one value per sample, for that value.
struct TargetRows {
  const float* values = nullptr;
  const int32_t* labels = nullptr;
  bool labels_are_values = false;
  float at(int64_t r, int64_t j, int64_t C) const {
    if (values) return values[r * C + j];
    return labels_are_values ? static_cast<float>(labels[r]) : static_cast<float>(labels[r] == j);
  }
};

// Sum over the batch of w[r] * -log(clip(p[y])) for probabilities p (B,C) and labels y (B).
double sparse_xent_probs_forward(const float* p, const int32_t* y, const float* w, int64_t B,
                                 int64_t C);
// dp (B,C) = d(weighted sum of losses)/dp / scale (scale = batch size for the mean).
void sparse_xent_probs_backward(float* dp, const float* p, const int32_t* y, const float* w,
                                int64_t B, int64_t C, float scale);

// Sum over the batch of w[r] * (logsumexp(z) - z[y]) for logits z (B,C).
double sparse_xent_logits_forward(const float* z, const int32_t* y, const float* w, int64_t B,
                                  int64_t C);
// dz (B,C) = w[r] (softmax(z) - onehot(y)) / scale.
void sparse_xent_logits_backward(float* dz, const float* z, const int32_t* y, const float* w,
                                 int64_t B, int64_t C, float scale);

// dz (B,C) = w[r] (p - onehot(y)) / scale: softmax and cross-entropy differentiated together,
// given the softmax output p. Exact where the separate backward passes would divide by a tiny p[y].
void softmax_xent_backward(float* dz, const float* p, const int32_t* y, const float* w, int64_t B,
                           int64_t C, float scale);

// Categorical cross-entropy with targets t' = t (1 - smoothing) + smoothing / C. On
// probabilities p (B,C): each row is divided by its sum, clipped, and -sum_j t'_j log q_j taken.
double xent_probs_forward(const float* p, TargetRows t, const float* w, int64_t B, int64_t C,
                          float smoothing);
void xent_probs_backward(float* dp, const float* p, TargetRows t, const float* w, int64_t B,
                         int64_t C, float smoothing, float scale);
// On logits z (B,C): sum_j t'_j (logsumexp(z) - z_j).
double xent_logits_forward(const float* z, TargetRows t, const float* w, int64_t B, int64_t C,
                           float smoothing);
// dz (B,C) = w[r] (T softmax(z) - t') / scale, T = sum_j t'_j; with z_is_softmax, z already holds
// the softmax (the output of a softmax layer, differentiated with respect to its input).
void xent_logits_backward(float* dz, const float* z, TargetRows t, const float* w, int64_t B,
                          int64_t C, float smoothing, float scale, bool z_is_softmax);

// Binary cross-entropy with targets t' = t (1 - smoothing) + smoothing / 2, averaged over the C
// values of each sample. On probabilities p (B,C), clipped:
double bce_probs_forward(const float* p, TargetRows t, const float* w, int64_t B, int64_t C,
                         float smoothing);
void bce_probs_backward(float* dp, const float* p, TargetRows t, const float* w, int64_t B,
                        int64_t C, float smoothing, float scale);
// On logits z (B,C): max(z, 0) - z t' + log(1 + exp(-|z|)).
double bce_logits_forward(const float* z, TargetRows t, const float* w, int64_t B, int64_t C,
                          float smoothing);
// dz (B,C) = w[r] (sigmoid(z) - t') / (C scale); with z_is_sigmoid, z already holds the sigmoid.
void bce_logits_backward(float* dz, const float* z, TargetRows t, const float* w, int64_t B,
                         int64_t C, float smoothing, float scale, bool z_is_sigmoid);

}  // namespace kiln::cpu
