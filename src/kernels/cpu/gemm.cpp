// Blocked GEMM: A is read in place (row-major or transposed); B is read in place when it is
// row-major and packed into NR-column panels otherwise (or at a ragged right edge). The
// micro-kernel keeps an MR x NR tile of C in registers. The whole driver is compiled once per instruction set
// (AVX-512, AVX2+FMA, SSE2) and the best one the CPU supports is picked at run time.
#include "kernels/cpu/gemm.hpp"

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "kernels/cpu/thread_pool.hpp"

namespace kiln::cpu {

namespace {

constexpr int64_t KC = 512;        // depth of one pass over K
constexpr int64_t MC_BLOCKS = 16;  // row blocks of A that stay in L2 while B's panels stream by

// Vectors of 16, 8 and 4 floats, loaded and stored without alignment requirements.
typedef float v16 __attribute__((vector_size(64), aligned(4)));
typedef float v8 __attribute__((vector_size(32), aligned(4)));
typedef float v4 __attribute__((vector_size(16), aligned(4)));
template <int W>
struct VecOf;
template <>
struct VecOf<16> {
  using type = v16;
};
template <>
struct VecOf<8> {
  using type = v8;
};
template <>
struct VecOf<4> {
  using type = v4;
};

#define KILN_INLINE inline __attribute__((always_inline))

// c (MR,NR) tile = beta * c + alpha * a (MR,K) · b (K,NR, row stride ldb), where a's element (i, k)
// is a[i * a_rs + k * a_ks]: A is read in place, row-major or transposed, never packed. Only
// the first rows x cols of the tile are stored. NR is NV vectors of W floats: two in the body of
// a product, one at a ragged right edge.
template <int MR, int W, int NV>
KILN_INLINE void micro_kernel(int64_t K, const float* a, int64_t a_rs, int64_t a_ks, const float* b,
                              int64_t ldb, float alpha, float beta, float* c, int64_t ldc, int64_t rows, int64_t cols) {
  using V = typename VecOf<W>::type;
  constexpr int NR = NV * W;
  V acc[MR][NV] = {};
  const float* ar[MR];
  for (int i = 0; i < MR; ++i) ar[i] = a + i * a_rs;
  // Unrolled by 4: measured 15% faster on tall products (1000x784 . 784x300), neutral elsewhere.
#pragma GCC unroll 4
  for (int64_t k = 0; k < K; ++k) {
    V bv[NV];
    for (int j = 0; j < NV; ++j) bv[j] = *reinterpret_cast<const V*>(b + k * ldb + j * W);
    for (int i = 0; i < MR; ++i) {
      float ai = ar[i][k * a_ks];
      for (int j = 0; j < NV; ++j) acc[i][j] += ai * bv[j];
    }
  }
  if (rows == MR && cols == NR) {
    for (int i = 0; i < MR; ++i) {
      V* row = reinterpret_cast<V*>(c + i * ldc);
      for (int j = 0; j < NV; ++j) row[j] = beta != 0.0f ? row[j] + alpha * acc[i][j] : alpha * acc[i][j];
    }
    return;
  }
  float tile[MR][NR];
  std::memcpy(tile, acc, sizeof(tile));
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      c[i * ldc + j] = (beta != 0.0f ? c[i * ldc + j] : 0.0f) + alpha * tile[i][j];
}

// The micro-kernel for a block of `rows` <= MR rows: a tile only as tall as needed, so a
// batch of one costs one row of work, not MR.
template <int MR, int W, int NV = 2>
KILN_INLINE void micro_kernel_rows(int64_t K, const float* a, int64_t a_rs, int64_t a_ks, const float* b,
                                   int64_t ldb, float alpha, float beta, float* c, int64_t ldc, int64_t rows,
                                   int64_t cols) {
  if constexpr (MR > 1) {
    if (rows < MR)
      return micro_kernel_rows<MR - 1, W, NV>(K, a, a_rs, a_ks, b, ldb, alpha, beta, c, ldc, rows, cols);
  }
  micro_kernel<MR, W, NV>(K, a, a_rs, a_ks, b, ldb, alpha, beta, c, ldc, rows, cols);
}

// Packs columns [n0, n0+NR) x depth [k0, k0+kc) of op(B) into dst (kc, NR), zero-padding
// columns >= N: for a transposed B, or a ragged right edge that is not a multiple of 4 wide.
template <int NR>
KILN_INLINE void pack_b(bool trans_b, const float* B, int64_t ldb, int64_t N, int64_t n0, int64_t k0,
                        int64_t kc, float* dst) {
  int64_t cols = std::min<int64_t>(NR, N - n0);
  if (trans_b) {
    // Column j of op(B) is row n0 + j of B: read each row along k, write with stride NR.
    for (int64_t j = 0; j < cols; ++j)
      for (int64_t k = 0; k < kc; ++k) dst[k * NR + j] = B[(n0 + j) * ldb + k0 + k];
    for (int64_t k = 0; k < kc; ++k)
      for (int64_t j = cols; j < NR; ++j) dst[k * NR + j] = 0.0f;
    return;
  }
  for (int64_t k = 0; k < kc; ++k) {
    float* d = dst + k * NR;
    for (int64_t j = 0; j < cols; ++j) d[j] = B[(k0 + k) * ldb + n0 + j];
    for (int64_t j = cols; j < NR; ++j) d[j] = 0.0f;
  }
}

struct Args {
  bool trans_a, trans_b;
  int64_t M, N, K;
  float alpha;
  const float* A;
  int64_t lda;
  const float* B;
  int64_t ldb;
  float beta;
  float* C;
  int64_t ldc;
};

// Row block r of MR rows: its first row and height. When fewer than half of MR rows are left
// over, the last two blocks share them (32 rows at MR 6: 6, 6, 6, 6, 4, 4 rather than 6, 6, 6, 6,
// 6, 2): a tile of one or two rows has too few accumulators to hide the FMA latency and takes
// nearly as long as a full one. (Interleaved runs: the step's products 295/310 µs best/median
// against 313/316.)
template <int MR>
KILN_INLINE std::pair<int64_t, int64_t> row_block(int64_t M, int64_t r) {
  int64_t blocks = (M + MR - 1) / MR, rest = M % MR;
  if (rest == 0 || 2 * rest >= MR || blocks < 2 || r < blocks - 2)
    return {r * MR, std::min<int64_t>(MR, M - r * MR)};
  int64_t base = (blocks - 2) * MR, first = (MR + rest + 1) / 2;
  return r == blocks - 2 ? std::pair{base, first} : std::pair{base + first, MR + rest - first};
}

// The ragged right edge of a row-major B, cols < 2W columns from n0 (a multiple of 4), for row
// blocks [first, last), read in place: a vector of W columns if there are that many, then
// narrower vectors down to 4 columns. (Packing the edge cost as much as a tenth of a product.)
template <int MR, int W>
KILN_INLINE void ragged_edge(const Args& g, int64_t first, int64_t last, int64_t n0, int64_t cols, int64_t k0,
                             int64_t kc, float beta) {
  const int64_t a_rs = g.trans_a ? 1 : g.lda, a_ks = g.trans_a ? g.lda : 1;
  if (cols >= W) {
    for (int64_t r = first; r < last; ++r) {
      auto [m0, rows] = row_block<MR>(g.M, r);
      micro_kernel_rows<MR, W, 1>(kc, g.A + m0 * a_rs + k0 * a_ks, a_rs, a_ks, g.B + k0 * g.ldb + n0, g.ldb,
                                  g.alpha, beta, g.C + m0 * g.ldc + n0, g.ldc, rows, W);
    }
    n0 += W;
    cols -= W;
  }
  if constexpr (W > 4) {
    if (cols > 0) ragged_edge<MR, W / 2>(g, first, last, n0, cols, k0, kc, beta);
  }
}

// The part of C in row blocks [row_first, row_last) and column panels [col_first, col_last),
// with scratch for one packed panel of B (pb). Rows go in chunks of MC_BLOCKS row blocks so that
// a chunk of A stays in L2 while every column panel streams past it.
template <int MR, int W>
KILN_INLINE void gemm_block(const Args& g, int64_t row_first, int64_t row_last, int64_t col_first,
                            int64_t col_last, float* pb) {
  constexpr int NR = 2 * W;
  const int64_t a_rs = g.trans_a ? 1 : g.lda, a_ks = g.trans_a ? g.lda : 1;
  for (int64_t k0 = 0; k0 < g.K; k0 += KC) {
    int64_t kc = std::min(KC, g.K - k0);
    float pass_beta = k0 == 0 ? g.beta : 1.0f;
    for (int64_t chunk = row_first; chunk < row_last; chunk += MC_BLOCKS) {
      int64_t chunk_end = std::min(row_last, chunk + MC_BLOCKS);
      for (int64_t cb = col_first; cb < col_last; ++cb) {
        int64_t n0 = cb * NR, cols = std::min<int64_t>(NR, g.N - n0);
        if (!g.trans_b && cols < NR && cols % 4 == 0) {
          ragged_edge<MR, W>(g, chunk, chunk_end, n0, cols, k0, kc, pass_beta);
          continue;
        }
        const float* b = g.B + k0 * g.ldb + n0;
        int64_t b_stride = g.ldb;
        if (g.trans_b || cols < NR) {
          pack_b<NR>(g.trans_b, g.B, g.ldb, g.N, n0, k0, kc, pb);
          b = pb;
          b_stride = NR;
        }
        for (int64_t r = chunk; r < chunk_end; ++r) {
          auto [m0, rows] = row_block<MR>(g.M, r);
          micro_kernel_rows<MR, W>(kc, g.A + m0 * a_rs + k0 * a_ks, a_rs, a_ks, b, b_stride, g.alpha, pass_beta,
                                   g.C + m0 * g.ldc + n0, g.ldc, rows, cols);
        }
      }
    }
  }
}

// One instance per instruction set: the register tile fits the register file (AVX-512: 8 x 32
// with 32 registers; AVX2: 6 x 16 with 16 registers; SSE2: 4 x 8).
#define KILN_BLOCK_ARGS const Args &g, int64_t r0, int64_t r1, int64_t c0, int64_t c1, float *pb
__attribute__((target("avx512f,avx512vl,fma"))) void block_avx512(KILN_BLOCK_ARGS) {
  gemm_block<8, 16>(g, r0, r1, c0, c1, pb);
}
__attribute__((target("avx2,fma"))) void block_avx2(KILN_BLOCK_ARGS) { gemm_block<6, 8>(g, r0, r1, c0, c1, pb); }
void block_sse2(KILN_BLOCK_ARGS) { gemm_block<4, 4>(g, r0, r1, c0, c1, pb); }
#undef KILN_BLOCK_ARGS

struct Kernel {
  int mr, nr;
  void (*block)(const Args&, int64_t, int64_t, int64_t, int64_t, float*);
};

Kernel kernel_for(Isa isa) {
  switch (isa) {
    case Isa::kAvx512: return {8, 32, &block_avx512};
    case Isa::kAvx2: return {6, 16, &block_avx2};
    case Isa::kSse2: break;
  }
  return {4, 8, &block_sse2};
}

// Scratch for one packed panel of B per thread, grown once and reused.
thread_local std::vector<float> scratch;

void run(const Kernel& kernel, const Args& g) {
  if (g.M <= 0 || g.N <= 0) return;
  if (g.K <= 0) {
    for (int64_t i = 0; i < g.M; ++i)
      for (int64_t j = 0; j < g.N; ++j) g.C[i * g.ldc + j] = g.beta != 0.0f ? g.C[i * g.ldc + j] : 0.0f;
    return;
  }
  int64_t row_blocks = (g.M + kernel.mr - 1) / kernel.mr;
  int64_t col_blocks = (g.N + kernel.nr - 1) / kernel.nr;
  ThreadPool& pool = ThreadPool::global();
  // Below ~256k multiply-adds (a few microseconds), waking another thread costs more than it
  // saves, unless B is too big for one core's cache: split, each core keeps its share cached.
  constexpr int64_t kMinParallelWork = 1 << 18, kMinParallelB = 1 << 16;
  // Each thread takes a contiguous band of column panels (it then reads only its share of B) or,
  // when A is the larger operand, a band of row blocks (it then reads only its share of A).
  bool by_rows = g.M > g.N;
  int64_t bands = by_rows ? row_blocks : col_blocks;
  bool small = g.M * g.N * g.K < kMinParallelWork && g.K * g.N < kMinParallelB;
  int64_t threads = small ? 1 : std::min<int64_t>(pool.size(), bands);
  pool.run(threads, [&](int64_t t) {
    int64_t first = bands * t / threads, last = bands * (t + 1) / threads;
    size_t need = static_cast<size_t>(std::min(g.K, KC) * kernel.nr);
    if (scratch.size() < need) scratch.resize(need);
    if (by_rows)
      kernel.block(g, first, last, 0, col_blocks, scratch.data());
    else
      kernel.block(g, 0, row_blocks, first, last, scratch.data());
  });
}

}  // namespace

Isa best_isa() {
  static const Isa isa = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")
                             ? Isa::kAvx512
                         : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? Isa::kAvx2
                                                                                             : Isa::kSse2;
  return isa;
}

std::vector<Isa> supported_isas() {
  std::vector<Isa> out{Isa::kSse2};
  if (best_isa() != Isa::kSse2) out.push_back(Isa::kAvx2);
  if (best_isa() == Isa::kAvx512) out.push_back(Isa::kAvx512);
  return out;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kAvx512: return "avx512";
    case Isa::kAvx2: return "avx2";
    case Isa::kSse2: break;
  }
  return "sse2";
}

void gemm_with(Isa isa, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
               const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  run(kernel_for(isa), {trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc});
}

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  static const Kernel kernel = kernel_for(best_isa());
  run(kernel, {trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc});
}

void gemm_reference(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                    const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                    int64_t ldc) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double sum = 0.0;
      for (int64_t k = 0; k < K; ++k) {
        float a = trans_a ? A[k * lda + i] : A[i * lda + k];
        float b = trans_b ? B[j * ldb + k] : B[k * ldb + j];
        sum += static_cast<double>(a) * b;
      }
      C[i * ldc + j] = static_cast<float>((beta != 0.0f ? C[i * ldc + j] : 0.0) + alpha * sum);
    }
}

}  // namespace kiln::cpu
