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

void pool_forward(PoolOp op, float* out, const float* x, const Window& w, int64_t B) {
  const int64_t C = w.C;
  ThreadPool::global().run_rows(B * w.OH, w.OW * C * w.KH * w.KW, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* image = x + r / w.OH * w.input_size();
      for (int64_t ow = 0; ow < w.OW; ++ow) {
        float* o = out + (r * w.OW + ow) * C;
        const Span2 s = window_at(w, r % w.OH, ow);
        std::fill_n(o, C, op == PoolOp::kMax ? -std::numeric_limits<float>::infinity() : 0.0f);
        for (int64_t ih = s.h0; ih < s.h1; ++ih)
          for (int64_t iw = s.w0; iw < s.w1; ++iw) {
            const float* v = image + (ih * w.W + iw) * C;
            if (op == PoolOp::kMax)
              for (int64_t c = 0; c < C; ++c) o[c] = std::max(o[c], v[c]);
            else
              for (int64_t c = 0; c < C; ++c) o[c] += v[c];
          }
        if (op == PoolOp::kAverage) {
          const float scale = 1.0f / static_cast<float>(s.count());
          for (int64_t c = 0; c < C; ++c) o[c] *= scale;
        }
      }
    }
  });
}

void pool_backward(PoolOp op, float* dx, bool accumulate, const float* dout, const float* x, const float* out,
                   const Window& w, int64_t B) {
  const int64_t C = w.C;
  ThreadPool::global().run_rows(B, w.OH * w.OW * C * w.KH * w.KW, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      float* d = dx + b * w.input_size();
      const float* image = x + b * w.input_size();
      if (!accumulate) std::fill_n(d, w.input_size(), 0.0f);
      for (int64_t oh = 0; oh < w.OH; ++oh)
        for (int64_t ow = 0; ow < w.OW; ++ow) {
          const int64_t at = ((b * w.OH + oh) * w.OW + ow) * C;
          const Span2 s = window_at(w, oh, ow);
          if (op == PoolOp::kAverage) {
            const float scale = 1.0f / static_cast<float>(s.count());
            for (int64_t ih = s.h0; ih < s.h1; ++ih)
              for (int64_t iw = s.w0; iw < s.w1; ++iw)
                for (int64_t c = 0; c < C; ++c) d[(ih * w.W + iw) * C + c] += dout[at + c] * scale;
            continue;
          }
          for (int64_t c = 0; c < C; ++c) {
            bool found = false;
            for (int64_t ih = s.h0; ih < s.h1 && !found; ++ih)
              for (int64_t iw = s.w0; iw < s.w1 && !found; ++iw) {
                const int64_t i = (ih * w.W + iw) * C + c;
                if (image[i] == out[at + c]) {
                  d[i] += dout[at + c];
                  found = true;
                }
              }
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
    const float* image = x + b * n * C;
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
