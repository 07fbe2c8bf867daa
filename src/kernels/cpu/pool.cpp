#include "kernels/cpu/pool.hpp"

#include <algorithm>
#include <limits>

#include "kernels/cpu/thread_pool.hpp"

namespace kiln::cpu {

namespace {

// The input rows and columns a window covers, clipped to the image.
struct Span2 {
  int64_t h0, h1, w0, w1;
  int64_t count() const { return (h1 - h0) * (w1 - w0); }
};

Span2 window_at(const Window& w, int64_t oh, int64_t ow) {
  const int64_t h = oh * w.SH - w.pad_top, c = ow * w.SW - w.pad_left;
  return {std::max<int64_t>(h, 0), std::min(h + w.KH, w.H), std::max<int64_t>(c, 0), std::min(c + w.KW, w.W)};
}

}  // namespace

namespace {

// One image row of outputs; the op is a template parameter so the channel loops vectorize.
template <PoolOp op>
void pool_row(float* out, const float* image, const Window& w, int64_t oh, int32_t* where) {
  const int64_t C = w.C;
  for (int64_t ow = 0; ow < w.OW; ++ow) {
    float* o = out + ow * C;
    const Span2 s = window_at(w, oh, ow);
    const float* first = image + (s.h0 * w.W + s.w0) * C;
    std::copy_n(first, C, o);
    for (int64_t ih = s.h0; ih < s.h1; ++ih)
      for (int64_t iw = ih == s.h0 ? s.w0 + 1 : s.w0; iw < s.w1; ++iw) {
        const float* v = image + (ih * w.W + iw) * C;
        for (int64_t c = 0; c < C; ++c) o[c] = op == PoolOp::kMax ? std::max(o[c], v[c]) : o[c] + v[c];
      }
    if (op == PoolOp::kAverage) {
      const float scale = 1.0f / static_cast<float>(s.count());
      for (int64_t c = 0; c < C; ++c) o[c] *= scale;
    }
    if (op == PoolOp::kMax && where) {
      // Where each maximum came from: the first value in the window, row by row, equal to it. The
      // window is walked backwards so that the last match wins: a plain select, which vectorizes.
      int32_t* at = where + ow * C;
      std::fill_n(at, C, -1);
      for (int64_t ih = s.h1 - 1; ih >= s.h0; --ih)
        for (int64_t iw = s.w1 - 1; iw >= s.w0; --iw) {
          const auto base = static_cast<int32_t>((ih * w.W + iw) * C);
          const float* v = image + base;
          for (int64_t c = 0; c < C; ++c) at[c] = v[c] == o[c] ? base + static_cast<int32_t>(c) : at[c];
        }
    }
  }
}

}  // namespace

void pool_forward(PoolOp op, float* out, const float* x, const Window& w, int64_t B, int32_t* where) {
  ThreadPool::global().run_rows(B * w.OH, w.OW * w.C * w.KH * w.KW, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* image = x + r / w.OH * w.input_size();
      float* o = out + r * w.OW * w.C;
      if (op == PoolOp::kMax)
        pool_row<PoolOp::kMax>(o, image, w, r % w.OH, where ? where + r * w.OW * w.C : nullptr);
      else
        pool_row<PoolOp::kAverage>(o, image, w, r % w.OH, nullptr);
    }
  });
}

void pool_backward(PoolOp op, float* dx, bool accumulate, const float* dout, const int32_t* where, const Window& w,
                   int64_t B) {
  const int64_t C = w.C, per_image = w.OH * w.OW * C;
  ThreadPool::global().run_rows(B, per_image * w.KH * w.KW, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      float* d = dx + b * w.input_size();
      if (!accumulate) std::fill_n(d, w.input_size(), 0.0f);
      const float* g = dout + b * per_image;
      if (op == PoolOp::kMax) {
        const int32_t* at = where + b * per_image;
        for (int64_t i = 0; i < per_image; ++i)
          if (at[i] >= 0) d[at[i]] += g[i];
        continue;
      }
      for (int64_t oh = 0; oh < w.OH; ++oh)
        for (int64_t ow = 0; ow < w.OW; ++ow) {
          const Span2 s = window_at(w, oh, ow);
          const float scale = 1.0f / static_cast<float>(s.count());
          const float* go = g + (oh * w.OW + ow) * C;
          for (int64_t ih = s.h0; ih < s.h1; ++ih)
            for (int64_t iw = s.w0; iw < s.w1; ++iw) {
              float* dv = d + (ih * w.W + iw) * C;
              for (int64_t c = 0; c < C; ++c) dv[c] += go[c] * scale;
            }
        }
    }
  });
}

void global_pool_forward(PoolOp op, float* out, const float* x, int64_t B, int64_t n, int64_t C) {
  for (int64_t b = 0; b < B; ++b) {
    float* o = out + b * C;
    const float* image = x + b * n * C;
    std::copy_n(image, C, o);
    for (int64_t p = 1; p < n; ++p)
      for (int64_t c = 0; c < C; ++c)
        o[c] = op == PoolOp::kMax ? std::max(o[c], image[p * C + c]) : o[c] + image[p * C + c];
    if (op == PoolOp::kAverage)
      for (int64_t c = 0; c < C; ++c) o[c] /= static_cast<float>(n);
  }
}

void global_pool_backward(PoolOp op, float* dx, bool accumulate, const float* dout, const float* x,
                          const float* out, int64_t B, int64_t n, int64_t C) {
  for (int64_t b = 0; b < B; ++b) {
    float* d = dx + b * n * C;
    const float* image = op == PoolOp::kMax ? x + b * n * C : nullptr;  // x is null for averages
    if (!accumulate) std::fill_n(d, n * C, 0.0f);
    for (int64_t c = 0; c < C; ++c) {
      const float g = dout[b * C + c];
      if (op == PoolOp::kAverage) {
        for (int64_t p = 0; p < n; ++p) d[p * C + c] += g / static_cast<float>(n);
        continue;
      }
      for (int64_t p = 0; p < n; ++p)
        if (image[p * C + c] == out[b * C + c]) {
          d[p * C + c] += g;
          break;
        }
    }
  }
}

}  // namespace kiln::cpu
