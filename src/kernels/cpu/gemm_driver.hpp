// What the float32 and bfloat16 GEMMs share: the product's arguments, vector types, how rows
// are cut into register-tile blocks, and how a product is split across the thread pool.
// Internal to src/kernels/cpu.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

#include "kernels/cpu/gemm.hpp"

namespace kiln::cpu::detail {

#define KILN_INLINE inline __attribute__((always_inline))

constexpr int64_t KC = 512;        // depth of one pass over K
constexpr int64_t MC_BLOCKS = 16;  // row blocks of A that stay in L2 while B's panels stream by

// Vectors of W floats (or 32-bit integers). They go to and from memory through std::memcpy (one
// unaligned move), never through a cast pointer: clang drops the typedef's aligned(4) once the
// type has passed through a template, and then moves with vmovaps, which faults on a row that is
// not 32-byte aligned (and warns, -Walign-mismatch, where such a vector is passed by reference).
template <int W>
struct VecOf {
  typedef float type __attribute__((vector_size(4 * W), aligned(4)));
  typedef uint32_t bits __attribute__((vector_size(4 * W), aligned(4)));
};

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
  Epilogue epilogue;
  // op(B) packed whole by the kernel's pack_b (column panels of NR, each K deep, in the
  // kernel's own element type), or null: B is then read in place or packed panel by panel.
  const void* packed_b = nullptr;
  // A read as a convolution's windows (A and lda unused), or null. float32 kernels only.
  const WindowA* windows = nullptr;
};

// One value of column j of C through the epilogue e: times the column's scale, plus its bias,
// then ReLU.
KILN_INLINE float finish(float c, const Epilogue& e, int64_t j) {
  if (e.scale) c *= e.scale[j];
  if (e.bias) c += e.bias[j];
  return e.relu && c < 0.0f ? 0.0f : c;
}

// How a tile is stored: c = beta * c + alpha * acc, then the epilogue (none before the product's
// last depth pass; its bias points at the bias of the tile's first column).
struct Store {
  float alpha, beta;
  Epilogue epilogue;
  // The same store for a tile n0 columns further right.
  Store at(int64_t n0) const {
    return {alpha, beta,
            {epilogue.bias ? epilogue.bias + n0 : nullptr, epilogue.relu, epilogue.scale ? epilogue.scale + n0 : nullptr}};
  }
};

// The store of depth pass [k0, k0 + kc) of the product g.
inline Store pass_store(const Args& g, int64_t k0, int64_t kc) {
  return {g.alpha, k0 == 0 ? g.beta : 1.0f, k0 + kc >= g.K ? g.epilogue : Epilogue{}};
}

// The store s of a whole MR x (NV * W) register tile, with the epilogue or (compiled without it,
// as most products need) not, and its scale only where a product has one (a folded batch
// normalization): with the scale's check in every epilogue store, predicting 1000 images with
// the seed MLP took 5.0-5.2 ms (best of 3, four alternating runs, busy host) against 3.6-3.9 ms
// without. Unrolled completely, or the accumulators would live in memory for the whole product.
template <bool WithEpilogue, bool WithScale, int MR, int W, int NV>
KILN_INLINE void store_whole_tile(const typename VecOf<W>::type (&acc)[MR][NV], const Store& s,
                                  float* c, int64_t ldc) {
  using V = typename VecOf<W>::type;
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    float* row = c + i * ldc;
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) {
      V v = s.alpha * acc[i][j], m;
      if (s.beta != 0.0f) {
        std::memcpy(&m, row + j * W, sizeof m);
        v = m + v;
      }
      if constexpr (WithEpilogue) {
        if constexpr (WithScale) {
          std::memcpy(&m, s.epilogue.scale + j * W, sizeof m);
          v *= m;
        }
        if (s.epilogue.bias) {
          std::memcpy(&m, s.epilogue.bias + j * W, sizeof m);
          v += m;
        }
        if (s.epilogue.relu) v = v < 0.0f ? V{} : v;
      }
      std::memcpy(row + j * W, &v, sizeof v);
    }
  }
}

// c (rows, cols) = the store s of acc, an MR x (NV * W) register tile of which only the first
// rows x cols are stored (a ragged edge of C).
template <int MR, int W, int NV>
KILN_INLINE void store_tile(const typename VecOf<W>::type (&acc)[MR][NV], const Store& s, float* c,
                            int64_t ldc, int64_t rows, int64_t cols) {
  constexpr int NR = NV * W;
  if (rows == MR && cols == NR) {
    if (s.epilogue.scale)
      store_whole_tile<true, true, MR, W, NV>(acc, s, c, ldc);
    else if (s.epilogue.bias || s.epilogue.relu)
      store_whole_tile<true, false, MR, W, NV>(acc, s, c, ldc);
    else
      store_whole_tile<false, false, MR, W, NV>(acc, s, c, ldc);
    return;
  }
  float tile[MR][NR];
  std::memcpy(tile, acc, sizeof(tile));
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      c[i * ldc + j] =
          finish((s.beta != 0.0f ? c[i * ldc + j] : 0.0f) + s.alpha * tile[i][j], s.epilogue, j);
}

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

// One instruction set's kernel: its register tile (mr x nr) and the function that computes the
// part of C in row blocks [r0, r1) and column panels [c0, c1).
struct Kernel {
  int mr, nr;
  void (*block)(const Args& g, int64_t r0, int64_t r1, int64_t c0, int64_t c1);
  // Packs column panels [c0, c1) of op(B), all K deep, into dst, zero-padded past N, in at most
  // 4 bytes per column and depth plus one depth row (an odd depth's last bf16 pair): see run().
  void (*pack_b)(const Args& g, int64_t c0, int64_t c1, void* dst);
};

// The kernels for an instruction set the CPU supports: gemm.cpp's and gemm_bf16.cpp's.
Kernel float32_kernel(Isa isa);
Kernel bfloat16_kernel(Isa isa);

// Per-thread scratch memory, one buffer per slot (0 and 1: the kernels' packed panels of B and A;
// kPackedBSlot: run()'s whole packed B), grown when a product needs more than any before it and
// reused after that: a training step allocates nothing.
constexpr int kPackedBSlot = 2;
void* scratch(int slot, size_t bytes);

// Runs the product on the global pool: each thread takes a contiguous run of tiles, band by band
// of column panels or, when A is the larger operand, of row blocks; small products stay on the
// calling thread.
void run(const Kernel& kernel, const Args& g);

}  // namespace kiln::cpu::detail
