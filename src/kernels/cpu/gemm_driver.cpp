// The GEMM's entry points: the split across the thread pool, the per-thread scratch, and the
// reference triple loop.
#include "kernels/cpu/gemm_driver.hpp"

#include <vector>

#include "kernels/cpu/bf16.hpp"
#include "kernels/cpu/thread_pool.hpp"

namespace kiln::cpu {

namespace detail {

// The kernels' panels (slots 0 and 1) need at most ~230 KB, for a full-depth bf16 chunk; they
// get that at once, and reserve_scratch() gives it to every thread before training.
constexpr size_t kPanelBytes = size_t{256} << 10;

void* scratch(int slot, size_t bytes) {
  thread_local std::vector<std::byte> buffers[3];
  std::vector<std::byte>& b = buffers[slot];
  if (b.size() < bytes) b.resize(slot == kPackedBSlot ? bytes : std::max(bytes, kPanelBytes));
  return b.data();
}

namespace {

// The size of B packed whole (Args::packed_b), or 0 where B is better read in place. Packing
// all of B once, the threads sharing the work, pays when A has many row blocks: each panel then
// stays in L1 while they stream past it, and a deep panel read in place does not fit there (a
// row of 16 floats in place straddles two cache lines three times in four). The tall product of
// inference (1000x784 . 784x300) takes 6-10% less time so (min and median of eight alternating
// runs: 2.72 / 2.95 ms against 3.04 / 3.14 ms). A transposed B is packed anyway, so it pays
// whatever the depth. Kept to 16 MB of scratch.
size_t packed_b_bytes(const Kernel& kernel, const Args& g, int64_t row_blocks, int64_t col_blocks) {
  constexpr int64_t kMinRowBlocks = 64, kMinDepth = 128;
  constexpr size_t kMaxBytes = size_t{16} << 20;
  if (row_blocks < kMinRowBlocks || (!g.trans_b && g.K < kMinDepth)) return 0;
  size_t bytes = sizeof(float) * col_blocks * kernel.nr * (g.K + 1);
  return bytes <= kMaxBytes ? bytes : 0;
}

}  // namespace

void run(const Kernel& kernel, const Args& g) {
  if (g.M <= 0 || g.N <= 0) return;
  if (g.K <= 0) {
    for (int64_t i = 0; i < g.M; ++i)
      for (int64_t j = 0; j < g.N; ++j)
        g.C[i * g.ldc + j] = finish(g.beta != 0.0f ? g.C[i * g.ldc + j] : 0.0f, g.epilogue, j);
    return;
  }
  int64_t row_blocks = (g.M + kernel.mr - 1) / kernel.mr;
  int64_t col_blocks = (g.N + kernel.nr - 1) / kernel.nr;
  ThreadPool& pool = ThreadPool::global();
  // Below ~256k multiply-adds (a few microseconds), waking another thread costs more than it
  // saves, unless B is too big for one core's cache: split, each core keeps its share cached.
  constexpr int64_t kMinParallelWork = 1 << 18, kMinParallelB = 1 << 16;
  // Each thread takes a contiguous band of column panels (it then reads only its share of B) or,
  // when A is the larger operand, a band of row blocks (it then reads only its share of A). Bands
  // are cut in tiles, not whole panels: 19 panels of 300 columns split 9.5 / 9.5 rather than
  // 9 / 10, the ten holding the ragged edge too (which left the other core waiting ~8% of the
  // first layer's products).
  bool by_rows = g.M > g.N;
  int64_t bands = by_rows ? row_blocks : col_blocks, across = by_rows ? col_blocks : row_blocks;
  bool small = g.M * g.N * g.K < kMinParallelWork && g.K * g.N < kMinParallelB;
  int64_t threads = small ? 1 : std::min<int64_t>(pool.size(), bands);
  Args h = g;
  if (size_t bytes = packed_b_bytes(kernel, g, row_blocks, col_blocks)) {
    void* dst = scratch(kPackedBSlot, bytes);
    int64_t packers = std::min(threads, col_blocks);
    pool.run(packers, [&](int64_t t) {
      kernel.pack_b(g, col_blocks * t / packers, col_blocks * (t + 1) / packers, dst);
    });
    h.packed_b = dst;
  }
  // Tiles [first, last) in band-major order, as at most three rectangles: the end of a band,
  // whole bands, the start of a band.
  auto tiles = [&](int64_t first, int64_t last) {
    auto rect = [&](int64_t band0, int64_t band1, int64_t a0, int64_t a1) {
      if (band0 >= band1 || a0 >= a1) return;
      if (by_rows)
        kernel.block(h, band0, band1, a0, a1);
      else
        kernel.block(h, a0, a1, band0, band1);
    };
    int64_t b0 = first / across, o0 = first % across, b1 = last / across, o1 = last % across;
    if (b0 == b1) return rect(b0, b0 + 1, o0, o1);
    if (o0 > 0) {
      rect(b0, b0 + 1, o0, across);
      ++b0;
    }
    rect(b0, b1, 0, across);
    rect(b1, b1 + 1, 0, o1);
  };
  int64_t total = bands * across;
  pool.run(threads, [&](int64_t t) { tiles(total * t / threads, total * (t + 1) / threads); });
}

}  // namespace detail

void reserve_scratch() {
  ThreadPool::global().run_on_each_thread([] {
    detail::scratch(0, detail::kPanelBytes);
    detail::scratch(1, detail::kPanelBytes);
  });
}

namespace {

detail::Kernel kernel_for(Isa isa, Precision precision) {
  return precision == Precision::kBfloat16 ? detail::bfloat16_kernel(isa)
                                           : detail::float32_kernel(isa);
}

}  // namespace

void gemm_with(Isa isa, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
               const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
               int64_t ldc, Precision precision, Epilogue epilogue) {
  detail::run(kernel_for(isa, precision),
              {trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, epilogue});
}

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc,
          Precision precision, Epilogue epilogue) {
  static const detail::Kernel kernels[] = {kernel_for(best_isa(), Precision::kFloat32),
                                           kernel_for(best_isa(), Precision::kBfloat16)};
  detail::run(kernels[static_cast<int>(precision)],
              {trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, epilogue});
}

namespace {

void run_windows(const detail::Kernel& kernel, const WindowA& a, int64_t M, int64_t N, const float* B, int64_t ldb,
                 float* C, int64_t ldc, Epilogue epilogue) {
  detail::Args g{false, false, M, N, a.runs * a.run, 1.0f, nullptr, 0, B, ldb, 0.0f, C, ldc, epilogue};
  g.windows = &a;
  detail::run(kernel, g);
}

}  // namespace

void gemm_windows(const WindowA& a, int64_t M, int64_t N, const float* B, int64_t ldb, float* C, int64_t ldc,
                  Epilogue epilogue) {
  static const detail::Kernel kernel = kernel_for(best_isa(), Precision::kFloat32);
  run_windows(kernel, a, M, N, B, ldb, C, ldc, epilogue);
}

void gemm_windows_with(Isa isa, const WindowA& a, int64_t M, int64_t N, const float* B, int64_t ldb, float* C,
                       int64_t ldc, Epilogue epilogue) {
  run_windows(kernel_for(isa, Precision::kFloat32), a, M, N, B, ldb, C, ldc, epilogue);
}

void gemm_reference(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                    const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                    int64_t ldc, Precision precision, Epilogue epilogue) {
  auto operand = [precision](float x) {
    return precision == Precision::kBfloat16 ? round_to_bf16(x) : x;
  };
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double sum = 0.0;
      for (int64_t k = 0; k < K; ++k) {
        float a = operand(trans_a ? A[k * lda + i] : A[i * lda + k]);
        float b = operand(trans_b ? B[j * ldb + k] : B[k * ldb + j]);
        sum += static_cast<double>(a) * b;
      }
      C[i * ldc + j] = detail::finish(
          static_cast<float>((beta != 0.0f ? C[i * ldc + j] : 0.0) + alpha * sum), epilogue, j);
    }
}

}  // namespace kiln::cpu
