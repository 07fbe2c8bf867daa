// The bfloat16 GEMM's kernels: both operands are rounded to bfloat16 as they are packed, the
// products are summed in float32, and C stays float32 (beta * C + alpha * A·B, then the epilogue).
//
// Packed layout (the one vdpbf16ps reads): depth goes in pairs. A row block of `rows` rows is
// packed [kc/2][rows] and a column panel of NR columns [kc/2][NR], each element a 32-bit word
// holding bf16(x[k]) in its low half and bf16(x[k+1]) in its high half (zero past an odd K or
// a ragged edge). A 32-bit lane then contributes a[k]·b[k] + a[k+1]·b[k+1] in one step.
// With AVX512_BF16 that step is vdpbf16ps; elsewhere it is two float32 FMAs on the halves
// widened by a shift and a mask, the same products (a bf16 product is exact in float32).
#include <algorithm>
#include <bit>

#include "kernels/cpu/gemm.hpp"
#include "kernels/cpu/gemm_driver.hpp"

#if KILN_X86_64
#include <immintrin.h>
#endif

namespace kiln::cpu {

namespace {

using namespace detail;  // the shared driver: Args, Store, KC, MC_BLOCKS, row_block, VecOf, store_tile

// x rounded to bfloat16 (nearest, ties to even), in the high half of the word; the same value
// as bf16_bits(x) << 16, written without branches so that the packing loops vectorize.
KILN_INLINE uint32_t bf16_high(float x) {
  uint32_t u = std::bit_cast<uint32_t>(x);
  uint32_t rounded = u + 0x7fffu + ((u >> 16) & 1u);
  return ((u & 0x7fffffffu) > 0x7f800000u ? u | 0x00400000u : rounded) & 0xffff0000u;
}

KILN_INLINE uint32_t bf16_pair(float lo, float hi) { return (bf16_high(lo) >> 16) | bf16_high(hi); }

// Packs n lines of a matrix, from line x0, over depth [k0, k0+kc), into dst [kc/2][stride]
// (word p of line x at dst[p * stride + x - x0]). The matrix is stored depth-major when
// depth_major (element (k, x) at src[k * ld + x]: a transposed A, a row-major B), else line-major
// (element (k, x) at src[x * ld + k]: a row-major A, a transposed B).
KILN_INLINE void pack_pairs(bool depth_major, const float* src, int64_t ld, int64_t x0, int64_t n,
                            int64_t k0, int64_t kc, uint32_t* dst, int64_t stride) {
  const int64_t pairs = kc / 2;
  if (depth_major) {
    // Lines are contiguous at each depth: the inner loop vectorizes.
    for (int64_t p = 0; p < pairs; ++p) {
      const float* lo = src + (k0 + 2 * p) * ld + x0;
      const float* hi = lo + ld;
      for (int64_t x = 0; x < n; ++x) dst[p * stride + x] = bf16_pair(lo[x], hi[x]);
    }
    if (kc % 2) {
      const float* lo = src + (k0 + kc - 1) * ld + x0;
      for (int64_t x = 0; x < n; ++x) dst[pairs * stride + x] = bf16_pair(lo[x], 0.0f);
    }
    return;
  }
  for (int64_t x = 0; x < n; ++x) {
    const float* line = src + (x0 + x) * ld + k0;
    for (int64_t p = 0; p < pairs; ++p)
      dst[p * stride + x] = bf16_pair(line[2 * p], line[2 * p + 1]);
    if (kc % 2) dst[pairs * stride + x] = bf16_pair(line[kc - 1], 0.0f);
  }
}

// Rows [m0, m0+rows) x depth [k0, k0+kc) of op(A) into dst [kc/2][rows].
KILN_INLINE void pack_a(const Args& g, int64_t m0, int64_t rows, int64_t k0, int64_t kc,
                        uint32_t* dst) {
  pack_pairs(g.trans_a, g.A, g.lda, m0, rows, k0, kc, dst, rows);
}

// Columns [n0, n0+cols) x depth [k0, k0+kc) of op(B) into dst [kc/2][NR], zero past cols.
template <int NR>
KILN_INLINE void pack_b(const Args& g, int64_t n0, int64_t cols, int64_t k0, int64_t kc,
                        uint32_t* dst) {
  pack_pairs(!g.trans_b, g.B, g.ldb, n0, cols, k0, kc, dst, NR);
  if (cols < NR)
    for (int64_t p = 0; p < (kc + 1) / 2; ++p)
      for (int64_t j = cols; j < NR; ++j) dst[p * NR + j] = 0;
}

// c (MR, NR) tile += packed a [pairs][MR] · packed b [pairs][NR], two float32 FMAs per pair on
// the halves of each word (the high half first, as vdpbf16ps adds them).
template <int MR, int W, int NV>
KILN_INLINE void kernel_emulated(int64_t pairs, const uint32_t* a, const uint32_t* b, const Store& st,
                                 float* c, int64_t ldc, int64_t rows, int64_t cols) {
  using V = typename detail::VecOf<W>::type;
  using U = typename detail::VecOf<W>::bits;
  constexpr int NR = NV * W;
  V acc[MR][NV] = {};
  for (int64_t p = 0; p < pairs; ++p) {
    V lo[NV], hi[NV];
    for (int j = 0; j < NV; ++j) {
      U u;
      std::memcpy(&u, b + p * NR + j * W, sizeof u);
      lo[j] = __builtin_bit_cast(V, u << 16);
      hi[j] = __builtin_bit_cast(V, u & 0xffff0000u);
    }
    for (int i = 0; i < MR; ++i) {
      uint32_t w = a[p * MR + i];
      float a_lo = std::bit_cast<float>(w << 16), a_hi = std::bit_cast<float>(w & 0xffff0000u);
      for (int j = 0; j < NV; ++j) {
        acc[i][j] += a_hi * hi[j];
        acc[i][j] += a_lo * lo[j];
      }
    }
  }
  detail::store_tile<MR, W, NV>(acc, st, c, ldc, rows, cols);
}

#if KILN_X86_64
#define KILN_BF16_TARGET __attribute__((target("avx512f,avx512vl,avx512bf16,fma")))

// The same tile with vdpbf16ps: one instruction per 16 columns and pair of depths.
template <int MR, int W, int NV>
KILN_BF16_TARGET inline void kernel_native(int64_t pairs, const uint32_t* a, const uint32_t* b,
                                           const Store& st, float* c, int64_t ldc, int64_t rows,
                                           int64_t cols) {
  static_assert(W == 16, "vdpbf16ps works on 16 float32 lanes");
  using V = typename detail::VecOf<W>::type;
  constexpr int NR = NV * W;
  V acc[MR][NV] = {};
  for (int64_t p = 0; p < pairs; ++p) {
    __m512i bv[NV];
    for (int j = 0; j < NV; ++j) bv[j] = _mm512_loadu_si512(b + p * NR + j * W);
    for (int i = 0; i < MR; ++i) {
      __m512i av = _mm512_set1_epi32(static_cast<int>(a[p * MR + i]));
      for (int j = 0; j < NV; ++j)
        acc[i][j] = __builtin_bit_cast(V, _mm512_dpbf16_ps(__builtin_bit_cast(__m512, acc[i][j]),
                                                           __builtin_bit_cast(__m512bh, av),
                                                           __builtin_bit_cast(__m512bh, bv[j])));
    }
  }
  detail::store_tile<MR, W, NV>(acc, st, c, ldc, rows, cols);
}
#endif

// The kernel for a block of `rows` <= MR rows, packed with a row stride of `rows`: a tile only
// as tall as needed, so a batch of one costs one row of work.
template <int MR, int W, bool Native>
KILN_INLINE void kernel_rows(int64_t pairs, const uint32_t* a, const uint32_t* b, const Store& st,
                             float* c, int64_t ldc, int64_t rows, int64_t cols) {
  if constexpr (MR > 1) {
    if (rows < MR)
      return kernel_rows<MR - 1, W, Native>(pairs, a, b, st, c, ldc, rows, cols);
  }
#if KILN_X86_64
  if constexpr (Native) return kernel_native<MR, W, 2>(pairs, a, b, st, c, ldc, rows, cols);
#endif
  kernel_emulated<MR, W, 2>(pairs, a, b, st, c, ldc, rows, cols);
}

// The part of C in row blocks [row_first, row_last) and column panels [col_first, col_last):
// per depth pass, each chunk of MC_BLOCKS row blocks of A is packed once and every column panel
// of B, packed in turn, is multiplied against it.
template <int MR, int W, bool Native>
KILN_INLINE void bf16_block(const Args& g, int64_t row_first, int64_t row_last, int64_t col_first,
                            int64_t col_last) {
  constexpr int NR = 2 * W;
  const int64_t max_pairs = (std::min(g.K, KC) + 1) / 2;
  auto* pa =
      static_cast<uint32_t*>(detail::scratch(0, sizeof(uint32_t) * MC_BLOCKS * MR * max_pairs));
  auto* pb = static_cast<uint32_t*>(detail::scratch(1, sizeof(uint32_t) * NR * max_pairs));
  for (int64_t k0 = 0; k0 < g.K; k0 += KC) {
    int64_t kc = std::min(KC, g.K - k0), pairs = (kc + 1) / 2;
    const Store st = pass_store(g, k0, kc);
    for (int64_t chunk = row_first; chunk < row_last; chunk += MC_BLOCKS) {
      int64_t chunk_end = std::min(row_last, chunk + MC_BLOCKS);
      for (int64_t r = chunk; r < chunk_end; ++r) {
        auto [m0, rows] = row_block<MR>(g.M, r);
        pack_a(g, m0, rows, k0, kc, pa + (r - chunk) * MR * pairs);
      }
      for (int64_t cb = col_first; cb < col_last; ++cb) {
        int64_t n0 = cb * NR, cols = std::min<int64_t>(NR, g.N - n0);
        const uint32_t* b = pb;
        if (g.packed_b)  // k0 is even (KC is), so the pass starts at pair k0 / 2
          b = static_cast<const uint32_t*>(g.packed_b) + (cb * ((g.K + 1) / 2) + k0 / 2) * NR;
        else
          pack_b<NR>(g, n0, cols, k0, kc, pb);
        for (int64_t r = chunk; r < chunk_end; ++r) {
          auto [m0, rows] = row_block<MR>(g.M, r);
          kernel_rows<MR, W, Native>(pairs, pa + (r - chunk) * MR * pairs, b, st.at(n0),
                                     g.C + m0 * g.ldc + n0, g.ldc, rows, cols);
        }
      }
    }
  }
}

// Column panels [c0, c1) of op(B), each all K deep, into dst: the layout of Args::packed_b.
template <int NR>
KILN_INLINE void pack_panels(const Args& g, int64_t c0, int64_t c1, void* dst) {
  for (int64_t cb = c0; cb < c1; ++cb)
    pack_b<NR>(g, cb * NR, std::min<int64_t>(NR, g.N - cb * NR), 0, g.K,
               static_cast<uint32_t*>(dst) + cb * ((g.K + 1) / 2) * NR);
}

// One instance per instruction set. The emulated tiles leave registers for the widened halves
// of B and A: 8 x 32 of 32 registers on AVX-512, 4 x 16 and 4 x 8 of 16 on AVX2 and the baseline.
#define KILN_BLOCK_ARGS const Args &g, int64_t r0, int64_t r1, int64_t c0, int64_t c1
#if KILN_X86_64
KILN_BF16_TARGET void block_avx512_bf16(KILN_BLOCK_ARGS) {
  bf16_block<8, 16, true>(g, r0, r1, c0, c1);
}
__attribute__((target("avx512f,avx512vl,fma"))) void block_avx512(KILN_BLOCK_ARGS) {
  bf16_block<8, 16, false>(g, r0, r1, c0, c1);
}
__attribute__((target("avx2,fma"))) void block_avx2(KILN_BLOCK_ARGS) {
  bf16_block<4, 8, false>(g, r0, r1, c0, c1);
}
#endif
void block_baseline(KILN_BLOCK_ARGS) { bf16_block<4, 4, false>(g, r0, r1, c0, c1); }
#undef KILN_BLOCK_ARGS
#define KILN_PACK_ARGS const Args &g, int64_t c0, int64_t c1, void *dst
#if KILN_X86_64
__attribute__((target("avx512f"))) void pack_avx512(KILN_PACK_ARGS) {
  pack_panels<32>(g, c0, c1, dst);
}
__attribute__((target("avx2"))) void pack_avx2(KILN_PACK_ARGS) {
  pack_panels<16>(g, c0, c1, dst);
}
#undef KILN_BF16_TARGET
#endif
void pack_baseline(KILN_PACK_ARGS) { pack_panels<8>(g, c0, c1, dst); }
#undef KILN_PACK_ARGS

}  // namespace

detail::Kernel detail::bfloat16_kernel(Isa isa) {
#if KILN_X86_64
  switch (isa) {
    case Isa::kAvx512Bf16:
      return {8, 32, &block_avx512_bf16, &pack_avx512};
    case Isa::kAvx512:
      return {8, 32, &block_avx512, &pack_avx512};
    case Isa::kAvx2:
      return {4, 16, &block_avx2, &pack_avx2};
    case Isa::kBaseline:
      break;
  }
#else
  (void)isa;
#endif
  return {4, 8, &block_baseline, &pack_baseline};
}

}  // namespace kiln::cpu
