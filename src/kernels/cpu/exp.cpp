#include "kernels/cpu/exp.hpp"

#include <bit>
#include <cstring>

#include "kernels/cpu/gemm_driver.hpp"  // VecOf, KILN_INLINE

namespace kiln::cpu {

namespace {

using detail::VecOf;

// exp(x) = 2^n * exp(r), n = round(x / ln 2), r = x - n ln 2 in [-ln2/2, ln2/2] (ln 2 in two
// parts, so that n ln 2 is exact), exp(r) by its degree-7 Taylor-like polynomial with Cephes's
// minimax coefficients for expf. n is read from the bits of x / ln 2 + 1.5 * 2^23, whose low
// mantissa bits hold it, so no float-to-int conversion meets a NaN. Below -87.34 (where 2^n
// would no longer be a normal float) the result is 0. Compiled without FMA contraction, so every
// instruction set rounds each step alike.
template <int W>
KILN_INLINE void exp_vector(typename VecOf<W>::type& x) {
  using V = typename VecOf<W>::type;
  using I = typename VecOf<W>::bits;
  constexpr float kLowest = -87.33654f, kRound = 12582912.0f;  // 1.5 * 2^23
  V c = x < kLowest ? V{} + kLowest : x;
  V t = c * 1.44269504f + kRound;
  V n = t - kRound;
  I e = __builtin_bit_cast(I, t) - std::bit_cast<uint32_t>(kRound);
  V r = c - n * 0.693359375f - n * -2.12194440e-4f;
  V p = V{} + 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  V y = p * __builtin_bit_cast(V, (e + 127u) << 23);
  x = x < kLowest ? V{} : y;
}

// W values at a time; the tail goes through one more vector in a scratch copy, so that every
// value takes the same path.
template <int W>
KILN_INLINE void exp_all(float* x, int64_t n) {
  using V = typename VecOf<W>::type;
  int64_t i = 0;
  for (; i + W <= n; i += W) {
    V v;  // through memcpy: see VecOf
    std::memcpy(&v, x + i, sizeof v);
    exp_vector<W>(v);
    std::memcpy(x + i, &v, sizeof v);
  }
  if (i == n) return;
  V tail{};
  std::memcpy(&tail, x + i, sizeof(float) * (n - i));
  exp_vector<W>(tail);
  std::memcpy(x + i, &tail, sizeof(float) * (n - i));
}

void exp_baseline(float* x, int64_t n) { exp_all<4>(x, n); }
#if KILN_X86_64
// AVX2 without FMA (see above). A stand-alone softmax over 1000 x 10 values built on it: 12 µs,
// against 42 with std::exp.
__attribute__((target("avx2"))) void exp_avx2(float* x, int64_t n) { exp_all<8>(x, n); }
#endif

}  // namespace

void exp_nonpositive_with(Isa isa, float* x, int64_t n) {
#if KILN_X86_64
  if (isa >= Isa::kAvx2) return exp_avx2(x, n);
#else
  (void)isa;
#endif
  exp_baseline(x, n);
}

void exp_nonpositive(float* x, int64_t n) { exp_nonpositive_with(best_isa(), x, n); }

}  // namespace kiln::cpu
