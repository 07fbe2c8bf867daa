#include "kernels/cpu/dense.hpp"

namespace kiln::cpu {

void dense_forward(float* out, const float* in, const float* w, const float* b, Activation act,
                   int64_t B, int64_t IN, int64_t OUT, Precision precision) {
  with_activation(out, b, act, B, OUT,
                  [&](const Epilogue& e) { dense_forward(out, in, w, e, B, IN, OUT, precision); });
}

void dense_forward(float* out, const float* in, const float* w, const Epilogue& e, int64_t B, int64_t IN,
                   int64_t OUT, Precision precision) {
  gemm(false, false, B, OUT, IN, 1.0f, in, IN, w, OUT, 0.0f, out, OUT, precision, e);
}

void dense_backward(float* din, bool din_accumulate, float* dw, float* db, const float* dz,
                    const float* in, const float* w, int64_t B, int64_t IN, int64_t OUT, float alpha,
                    bool accumulate, Precision precision) {
  if (din) gemm(false, true, B, IN, OUT, 1.0f, dz, OUT, w, OUT, din_accumulate ? 1.0f : 0.0f, din, IN, precision);
  if (dw) gemm(true, false, IN, OUT, B, alpha, in, IN, dz, OUT, accumulate ? 1.0f : 0.0f, dw, OUT, precision);
  if (db) bias_backward(db, dz, B, OUT, alpha, accumulate);
}

void weight_grad_transposed(float* dw, float* t, const float* dz, const float* in, int64_t B, int64_t IN, int64_t OUT,
                            float alpha, bool accumulate, Precision precision) {
  gemm(true, false, OUT, IN, B, alpha, dz, OUT, in, IN, 0.0f, t, IN, precision);
  for (int64_t i = 0; i < IN; ++i) {
    float* row = dw + i * OUT;
    for (int64_t o = 0; o < OUT; ++o) row[o] = accumulate ? row[o] + t[o * IN + i] : t[o * IN + i];
  }
}

}  // namespace kiln::cpu
