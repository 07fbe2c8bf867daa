// The float32 GEMM's kernels. Blocked: A is read in place (row-major, transposed, or as a
// convolution's windows of its input); B is read in place when it is row-major and packed into
// NR-column panels otherwise (or at a ragged right edge), or packed whole beforehand when A is
// tall (gemm_driver.cpp's packed_b_bytes). The
// micro-kernel keeps an MR x NR tile of C in registers. The whole block is compiled once per
// instruction set (AVX-512, AVX2+FMA, the baseline); gemm_driver.cpp picks one at run time.
#include <algorithm>

#include "kernels/cpu/gemm.hpp"
#include "kernels/cpu/gemm_driver.hpp"

namespace kiln::cpu {

namespace {

using namespace detail;  // the shared driver: Args, Store, KC, MC_BLOCKS, row_block, VecOf, store_tile

// Where a tile reads its rows of A in one depth pass: rows[i] points at row i's first value of
// the pass, which is `runs` runs of `run` values, each run run_stride after the one before,
// the values of a run ks apart. A matrix is one run (ks 1, or lda when transposed); a
// convolution's windows read from its images (WindowA) are a run per kernel row.
struct ARows {
  const float* const* rows;
  int64_t ks, run, runs, run_stride;
};

// c (MR,NR) tile = the store st of a (MR, runs * run) · b (runs * run, NR, row stride ldb): A is
// read in place, never packed. Only the first rows x cols of the tile are stored. NR is NV
// vectors of W floats: two in the body of a product, one at a ragged right edge.
template <int MR, int W, int NV>
KILN_INLINE void micro_kernel(const ARows& a, const float* b, int64_t ldb, const Store& st, float* c, int64_t ldc,
                              int64_t rows, int64_t cols) {
  using V = typename VecOf<W>::type;
  V acc[MR][NV] = {};
  for (int64_t r = 0; r < a.runs; ++r) {
    const float* ar[MR];
    for (int i = 0; i < MR; ++i) ar[i] = a.rows[i] + r * a.run_stride;
    const float* br = b + r * a.run * ldb;
    // Unrolled by 4: measured 15% faster on tall products (1000x784 . 784x300), neutral elsewhere.
#pragma GCC unroll 4
    for (int64_t k = 0; k < a.run; ++k) {
      V bv[NV];
      for (int j = 0; j < NV; ++j) std::memcpy(&bv[j], br + k * ldb + j * W, sizeof(V));
      for (int i = 0; i < MR; ++i) {
        float ai = ar[i][k * a.ks];
        for (int j = 0; j < NV; ++j) acc[i][j] += ai * bv[j];
      }
    }
  }
  detail::store_tile<MR, W, NV>(acc, st, c, ldc, rows, cols);
}

// The micro-kernel for a block of `rows` <= MR rows: a tile only as tall as needed, so a
// batch of one costs one row of work, not MR.
template <int MR, int W, int NV = 2>
KILN_INLINE void micro_kernel_rows(const ARows& a, const float* b, int64_t ldb, const Store& st, float* c,
                                   int64_t ldc, int64_t rows, int64_t cols) {
  if constexpr (MR > 1) {
    if (rows < MR) return micro_kernel_rows<MR - 1, W, NV>(a, b, ldb, st, c, ldc, rows, cols);
  }
  micro_kernel<MR, W, NV>(a, b, ldb, st, c, ldc, rows, cols);
}

// A's rows [m0, m1) for the depth pass [k0, k0 + kc): their first values into rows (m1 - m0 of
// them), and how the pass reads on from there.
KILN_INLINE ARows a_rows(const Args& g, int64_t m0, int64_t m1, int64_t k0, int64_t kc, const float** rows) {
  if (g.windows) {
    const WindowA& w = *g.windows;
    const int64_t skip = k0 / w.run * w.run_stride;
    for (int64_t m = m0; m < m1; ++m) rows[m - m0] = w.start(m) + skip;
    return {rows, 1, w.run, kc / w.run, w.run_stride};
  }
  const int64_t rs = g.trans_a ? 1 : g.lda, ks = g.trans_a ? g.lda : 1;
  for (int64_t m = m0; m < m1; ++m) rows[m - m0] = g.A + m * rs + k0 * ks;
  return {rows, ks, kc, 1, 0};
}

// The depth of one pass over K: KC, or for windows the whole runs that fit in it (at least one).
KILN_INLINE int64_t pass_depth(const Args& g) {
  return g.windows ? g.windows->run * std::max<int64_t>(KC / g.windows->run, 1) : KC;
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
    const float* b = B + (k0 + k) * ldb + n0;
    for (int64_t j = 0; j < cols; ++j) d[j] = b[j];
    for (int64_t j = cols; j < NR; ++j) d[j] = 0.0f;
  }
}

// The ragged right edge of a row-major B, cols < 2W columns from n0 (a multiple of 4), for row
// blocks [first, last) whose rows a reads from row m_first on, read in place: a vector of W
// columns if there are that many, then narrower vectors down to 4 columns. (Packing the edge
// cost as much as a tenth of a product.)
template <int MR, int W>
KILN_INLINE void ragged_edge(const Args& g, const ARows& a, int64_t m_first, int64_t first, int64_t last,
                             int64_t n0, int64_t cols, int64_t k0, const Store& st) {
  if (cols >= W) {
    for (int64_t r = first; r < last; ++r) {
      auto [m0, rows] = row_block<MR>(g.M, r);
      ARows at = a;
      at.rows += m0 - m_first;
      micro_kernel_rows<MR, W, 1>(at, g.B + k0 * g.ldb + n0, g.ldb, st.at(n0), g.C + m0 * g.ldc + n0, g.ldc, rows,
                                  W);
    }
    n0 += W;
    cols -= W;
  }
  if constexpr (W > 4) {
    if (cols > 0) ragged_edge<MR, W / 2>(g, a, m_first, first, last, n0, cols, k0, st);
  }
}

// The part of C in row blocks [row_first, row_last) and column panels [col_first, col_last).
// Rows go in chunks of MC_BLOCKS row blocks so that a chunk of A stays in L2 while every column
// panel streams past it.
template <int MR, int W>
KILN_INLINE void gemm_block(const Args& g, int64_t row_first, int64_t row_last, int64_t col_first,
                            int64_t col_last) {
  constexpr int NR = 2 * W;
  const int64_t depth = pass_depth(g);
  float* pb = static_cast<float*>(detail::scratch(0, sizeof(float) * std::min(g.K, depth) * NR));
  const float* row_starts[MC_BLOCKS * MR];
  for (int64_t k0 = 0; k0 < g.K; k0 += depth) {
    int64_t kc = std::min(depth, g.K - k0);
    const Store st = pass_store(g, k0, kc);
    for (int64_t chunk = row_first; chunk < row_last; chunk += MC_BLOCKS) {
      int64_t chunk_end = std::min(row_last, chunk + MC_BLOCKS);
      const int64_t m_first = row_block<MR>(g.M, chunk).first;
      const auto [m_last, last_rows] = row_block<MR>(g.M, chunk_end - 1);
      const ARows a = a_rows(g, m_first, m_last + last_rows, k0, kc, row_starts);
      for (int64_t cb = col_first; cb < col_last; ++cb) {
        int64_t n0 = cb * NR, cols = std::min<int64_t>(NR, g.N - n0);
        const float* b = g.B + k0 * g.ldb + n0;
        int64_t b_stride = g.ldb;
        if (g.packed_b) {
          b = static_cast<const float*>(g.packed_b) + (cb * g.K + k0) * NR;
          b_stride = NR;
        } else if (!g.trans_b && cols < NR && cols % 4 == 0) {
          ragged_edge<MR, W>(g, a, m_first, chunk, chunk_end, n0, cols, k0, st);
          continue;
        } else if (g.trans_b || cols < NR) {
          pack_b<NR>(g.trans_b, g.B, g.ldb, g.N, n0, k0, kc, pb);
          b = pb;
          b_stride = NR;
        }
        for (int64_t r = chunk; r < chunk_end; ++r) {
          auto [m0, rows] = row_block<MR>(g.M, r);
          ARows at = a;
          at.rows += m0 - m_first;
          micro_kernel_rows<MR, W>(at, b, b_stride, st.at(n0), g.C + m0 * g.ldc + n0, g.ldc, rows, cols);
        }
      }
    }
  }
}

// Column panels [c0, c1) of op(B), each all K deep, into dst: the layout of Args::packed_b. A
// row-major B is read row by row, each row's panels copied a vector at a time: reading along the
// rows and copying whole vectors packed the seed's first layer in 34-66 µs (in cache / not),
// against 53-145 µs panel by panel with fixed-size memcpy and 4% of the product with scalar copies.
template <int NR, int W>
KILN_INLINE void pack_panels(const Args& g, int64_t c0, int64_t c1, float* dst) {
  int64_t full = g.trans_b ? c0 : std::clamp(g.N / NR, c0, c1);  // panels [c0, full): NR wide
  for (int64_t k = 0; k < g.K; ++k)
    for (int64_t cb = c0; cb < full; ++cb)
      std::memcpy(dst + (cb * g.K + k) * NR, g.B + k * g.ldb + cb * NR, sizeof(float) * NR);
  for (int64_t cb = full; cb < c1; ++cb)
    pack_b<NR>(g.trans_b, g.B, g.ldb, g.N, cb * NR, 0, g.K, dst + cb * g.K * NR);
}

// One instance per instruction set: the register tile fits the register file (AVX-512: 8 x 32
// with 32 registers; AVX2: 6 x 16 with 16 registers; baseline: 4 x 8 of 16).
#define KILN_BLOCK_ARGS const Args &g, int64_t r0, int64_t r1, int64_t c0, int64_t c1
#if KILN_X86_64
__attribute__((target("avx512f,avx512vl,fma"))) void block_avx512(KILN_BLOCK_ARGS) {
  gemm_block<8, 16>(g, r0, r1, c0, c1);
}
__attribute__((target("avx2,fma"))) void block_avx2(KILN_BLOCK_ARGS) { gemm_block<6, 8>(g, r0, r1, c0, c1); }
#endif
void block_baseline(KILN_BLOCK_ARGS) { gemm_block<4, 4>(g, r0, r1, c0, c1); }
#undef KILN_BLOCK_ARGS
#define KILN_PACK_ARGS const Args &g, int64_t c0, int64_t c1, void *dst
#if KILN_X86_64
__attribute__((target("avx512f"))) void pack_avx512(KILN_PACK_ARGS) {
  pack_panels<32, 16>(g, c0, c1, static_cast<float*>(dst));
}
__attribute__((target("avx2"))) void pack_avx2(KILN_PACK_ARGS) {
  pack_panels<16, 8>(g, c0, c1, static_cast<float*>(dst));
}
#endif
void pack_baseline(KILN_PACK_ARGS) { pack_panels<8, 4>(g, c0, c1, static_cast<float*>(dst)); }
#undef KILN_PACK_ARGS

}  // namespace

detail::Kernel detail::float32_kernel(Isa isa) {
#if KILN_X86_64
  switch (isa) {
    case Isa::kAvx512Bf16:
    case Isa::kAvx512: return {8, 32, &block_avx512, &pack_avx512};
    case Isa::kAvx2: return {6, 16, &block_avx2, &pack_avx2};
    case Isa::kBaseline: break;
  }
#else
  (void)isa;
#endif
  return {4, 8, &block_baseline, &pack_baseline};
}

}  // namespace kiln::cpu
