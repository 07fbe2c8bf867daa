// General matrix product on row-major float matrices, split across the global thread pool, in
// float32 or with bfloat16 inputs. The result does not depend on the number of threads: each
// output tile is summed in one fixed order by one thread.
#pragma once

#include <cstdint>

#include "kernels/cpu/isa.hpp"

namespace kiln::cpu {

// How the product multiplies: float32 throughout, or with both operands rounded to bfloat16
// (round to nearest even) and the products summed in float32. C stays float32 either way.
enum class Precision { kFloat32, kBfloat16 };

// What is done to C after the product, in the same pass as each tile is stored: multiplied by
// scale, then bias added (one value per column, N of each; either may be null), then ReLU
// (max(c, 0); NaN stays NaN). Dense's epilogue is bias and ReLU; a batch normalization folded
// in at inference brings the scale.
struct Epilogue {
  const float* bias = nullptr;
  bool relu = false;
  const float* scale = nullptr;
};

// The A of a convolution read straight from its input images instead of from an im2col matrix
// (implicit GEMM): row m is output position m's window, `runs` runs of `run` consecutive values
// (a kernel row's columns and channels), run r starting run_stride after run r - 1.
struct WindowA {
  const float* images;
  int64_t image_size;  // floats per image
  int64_t OH, OW;      // output positions per image
  int64_t row_step, col_step;  // from one output row / column's window to the next
  int64_t run, runs, run_stride;
  // The first value of output position m's window.
  const float* start(int64_t m) const {
    const int64_t b = m / (OH * OW), p = m % (OH * OW);
    return images + b * image_size + p / OW * row_step + p % OW * col_step;
  }
};

// C (M,N) = A (M, runs * run) · B, A given as windows, B row-major (row stride ldb); float32;
// then the epilogue. With the best instruction set, or the one given (tests).
void gemm_windows(const WindowA& a, int64_t M, int64_t N, const float* B, int64_t ldb, float* C, int64_t ldc,
                  Epilogue epilogue = {});
void gemm_windows_with(Isa isa, const WindowA& a, int64_t M, int64_t N, const float* B, int64_t ldb, float* C,
                       int64_t ldc, Epilogue epilogue = {});

// C (M,N) = beta * C + alpha * op(A) (M,K) · op(B) (K,N), where op(X) is X or its transpose,
// then the epilogue.
// A is stored (M,K) with row stride lda, or (K,M) when trans_a; likewise B is (K,N) or (N,K).
// beta is 0 (overwrite) or 1 (accumulate); alpha = -learning_rate with beta = 1 applies an SGD
// step to C as the gradient is produced.
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc,
          Precision precision = Precision::kFloat32, Epilogue epilogue = {});

// Gives every thread of the pool the packing scratch any product needs, now: threads claim a
// product's shares as they come free, so a thread may meet its first product at any step, and
// a training step must not allocate. The model calls it when it plans a batch size.
void reserve_scratch();

// gemm with a given instruction set (which the CPU must support), for tests and benchmarks.
void gemm_with(Isa isa, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
               const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc,
               Precision precision = Precision::kFloat32, Epilogue epilogue = {});

// The same product computed by the plain triple loop in double precision (on the operands
// rounded to bfloat16 first, for kBfloat16): the reference the tests compare against.
void gemm_reference(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                    const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                    int64_t ldc, Precision precision = Precision::kFloat32, Epilogue epilogue = {});

}  // namespace kiln::cpu
