// Fully connected layer kernels: out = act(in · w + b).
#pragma once

#include <cstdint>

#include "kernels/cpu/activations.hpp"
#include "kernels/cpu/gemm.hpp"

namespace kiln::cpu {

// out (B,OUT) = act(in (B,IN) · w (IN,OUT) + b (OUT)); b may be null. The products run in
// `precision` (bfloat16 operands, float32 sums, for mixed_bfloat16); everything else in float32.
void dense_forward(float* out, const float* in, const float* w, const float* b, Activation act,
                   int64_t B, int64_t IN, int64_t OUT, Precision precision = Precision::kFloat32);

// out (B,OUT) = in (B,IN) · w (IN,OUT), each tile stored through the epilogue e.
void dense_forward(float* out, const float* in, const float* w, const Epilogue& e, int64_t B, int64_t IN,
                   int64_t OUT, Precision precision = Precision::kFloat32);

// out (B,OUT) = act(product + b) where product(epilogue) computes the product into out: bias
// and ReLU are stored with each tile of the product; other activations take a pass of their own.
template <typename Product>
void with_activation(float* out, const float* b, Activation act, int64_t B, int64_t OUT, Product&& product) {
  const bool fused = act == Activation::kLinear || act == Activation::kRelu;
  product(fused ? Epilogue{b, act == Activation::kRelu} : Epilogue{});
  if (!fused) bias_activation_forward(out, b, act, B, OUT);
}

// Given dz (B,OUT), the gradient with respect to the pre-activation:
// din (B,IN) = dz · w^T (+= with din_accumulate), then dw (IN,OUT) += alpha * in^T · dz and
// db (OUT) += alpha * column sums of dz (= instead of += unless accumulate). din, dw and db may
// be null (no input gradient needed; no weight gradients; no bias). din is computed before dw
// is written, so dw may be w itself: with alpha = -learning_rate and accumulate, dw = w and
// db = b apply an SGD step where the gradient is produced.
void dense_backward(float* din, bool din_accumulate, float* dw, float* db, const float* dz,
                    const float* in, const float* w, int64_t B, int64_t IN, int64_t OUT, float alpha,
                    bool accumulate, Precision precision = Precision::kFloat32);

// dw (IN,OUT) += alpha * in^T · dz (= unless accumulate) computed as its transpose, t (OUT,IN) =
// dz^T · in, then added to dw transposed. For a tall `in` with IN > OUT (a convolution's
// im2col matrix) the product reads better so: dz^T is a short, narrow A and `in` a plain B.
// t is scratch of OUT * IN floats.
void weight_grad_transposed(float* dw, float* t, const float* dz, const float* in, int64_t B, int64_t IN, int64_t OUT,
                            float alpha, bool accumulate, Precision precision = Precision::kFloat32);

}  // namespace kiln::cpu
