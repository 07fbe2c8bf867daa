#include "kernels/cpu/resample.hpp"

#include <algorithm>
#include <cmath>

#include "kernels/cpu/thread_pool.hpp"

namespace kiln::cpu {

namespace {

// A coordinate outside [0, n) brought inside as the fill mode says (TensorFlow's map_coordinate);
// kConstant leaves it, and the read then takes the fill value.
float map_coordinate(float c, int64_t n, Fill fill) {
  const auto len = static_cast<float>(n);
  switch (fill) {
    case Fill::kReflect:
      if (n <= 1) return 0;
      if (c < 0) {
        const float sz2 = 2 * len;
        if (c < -sz2) c = sz2 * std::trunc(-c / sz2) + c;
        c = c < -len ? c + sz2 : -c - 1;
      } else if (c > len - 1) {
        const float sz2 = 2 * len;
        c -= sz2 * std::trunc(c / sz2);
        if (c >= len) c = sz2 - c - 1;
      }
      return std::clamp(c, 0.0f, len - 1);
    case Fill::kWrap:
      if (n <= 1) return 0;
      if (c < 0) {
        const float sz = len - 1;
        c += sz * (std::trunc(-c / sz) + 1);
      } else if (c > len - 1) {
        const float sz = len - 1;
        c -= sz * std::trunc(c / sz);
      }
      return std::clamp(c, 0.0f, len - 1);
    case Fill::kNearest:
      return std::clamp(c, 0.0f, len - 1);
    case Fill::kConstant:
      return c;
  }
  return c;
}

// Calls tap(input_pixel, weight) for each input pixel output pixel (ox, oy) of one image reads,
// and returns the weight left to the fill value (taps outside the image).
template <typename Tap>
float taps(const ResampleShape& s, const float* m, int64_t ox, int64_t oy, Fill fill, bool bilinear, Tap&& tap) {
  const auto fx = static_cast<float>(ox), fy = static_cast<float>(oy);
  const float x = map_coordinate(m[0] * fx + m[1] * fy + m[2], s.W, fill);
  const float y = map_coordinate(m[3] * fx + m[4] * fy + m[5], s.H, fill);
  float outside = 0;
  auto read = [&](float px, float py, float w) {
    // Compared as floats before any conversion, so that no coordinate is cast out of range.
    if (!(px >= 0 && py >= 0 && px < static_cast<float>(s.W) && py < static_cast<float>(s.H))) {
      outside += w;
      return;
    }
    if (w != 0) tap(static_cast<int64_t>(py) * s.W + static_cast<int64_t>(px), w);
  };
  if (!bilinear) {
    read(std::round(x), std::round(y), 1.0f);
    return outside;
  }
  const float x0 = std::floor(x), y0 = std::floor(y), dx = x - x0, dy = y - y0;
  read(x0, y0, (1 - dx) * (1 - dy));
  read(x0 + 1, y0, dx * (1 - dy));
  read(x0, y0 + 1, (1 - dx) * dy);
  read(x0 + 1, y0 + 1, dx * dy);
  return outside;
}

}  // namespace

void resample(float* out, const float* x, const ResampleShape& s, int64_t B, const float* maps, Fill fill,
              bool bilinear, float fill_value) {
  const int64_t C = s.C;
  ThreadPool::global().run_rows(B * s.OH, s.OW * C * 4, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t b = r / s.OH, oy = r % s.OH;
      const float* image = x + b * s.H * s.W * C;
      for (int64_t ox = 0; ox < s.OW; ++ox) {
        float* o = out + (r * s.OW + ox) * C;
        std::fill_n(o, C, 0.0f);
        const float outside = taps(s, maps + b * kAffineFloats, ox, oy, fill, bilinear, [&](int64_t pixel, float w) {
          for (int64_t c = 0; c < C; ++c) o[c] += w * image[pixel * C + c];
        });
        if (outside != 0)
          for (int64_t c = 0; c < C; ++c) o[c] += outside * fill_value;
      }
    }
  });
}

void resample_backward(float* dx, bool accumulate, const float* dout, const ResampleShape& s, int64_t B,
                       const float* maps, Fill fill, bool bilinear) {
  const int64_t C = s.C, size = s.H * s.W * C;
  ThreadPool::global().run_rows(B, s.OH * s.OW * C * 4, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      float* d = dx + b * size;
      if (!accumulate) std::fill_n(d, size, 0.0f);
      for (int64_t oy = 0; oy < s.OH; ++oy)
        for (int64_t ox = 0; ox < s.OW; ++ox) {
          const float* g = dout + ((b * s.OH + oy) * s.OW + ox) * C;
          taps(s, maps + b * kAffineFloats, ox, oy, fill, bilinear, [&](int64_t pixel, float w) {
            for (int64_t c = 0; c < C; ++c) d[pixel * C + c] += w * g[c];
          });
        }
    }
  });
}

}  // namespace kiln::cpu
