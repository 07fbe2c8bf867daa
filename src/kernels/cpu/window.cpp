#include "kernels/cpu/window.hpp"

#include <algorithm>

#include "kernels/cpu/thread_pool.hpp"

namespace kiln::cpu {

namespace {

// Outputs and leading pad along one axis of n inputs.
void axis(int64_t n, int64_t k, int64_t s, int64_t d, bool same, int64_t& out, int64_t& pad) {
  const int64_t span = d * (k - 1) + 1;
  if (same) {
    out = (n + s - 1) / s;
    pad = std::max<int64_t>((out - 1) * s + span - n, 0) / 2;
  } else {
    out = n >= span ? (n - span) / s + 1 : 0;
    pad = 0;
  }
}

// Calls fn(window_offset, input_offset, count) for each run of a window's values that comes from
// the input, in window order, and gap(window_offset, count) for each run over padding; a run is
// KW * C values when the dilated columns are contiguous and all inside, else C values.
template <typename Fn, typename Gap>
void for_each_run(const Window& w, int64_t oh, int64_t ow, Fn&& fn, Gap&& gap) {
  const int64_t C = w.C, ih0 = oh * w.SH - w.pad_top, iw0 = ow * w.SW - w.pad_left;
  const bool whole_rows = w.DW == 1 && iw0 >= 0 && iw0 + w.KW <= w.W;
  int64_t at = 0;
  for (int64_t kh = 0; kh < w.KH; ++kh) {
    const int64_t ih = ih0 + kh * w.DH;
    if (ih < 0 || ih >= w.H) {
      gap(at, w.KW * C);
      at += w.KW * C;
      continue;
    }
    if (whole_rows) {
      fn(at, (ih * w.W + iw0) * C, w.KW * C);
      at += w.KW * C;
      continue;
    }
    for (int64_t kw = 0; kw < w.KW; ++kw, at += C) {
      const int64_t iw = iw0 + kw * w.DW;
      if (iw < 0 || iw >= w.W)
        gap(at, C);
      else
        fn(at, (ih * w.W + iw) * C, C);
    }
  }
}

// Copies a run of a window. A call to memcpy costs more than copying a short run (a first
// convolution's three pixels) in place.
inline void copy_run(float* dst, const float* src, int64_t n) {
  if (n > 16) return (void)std::copy_n(src, n, dst);
  for (int64_t i = 0; i < n; ++i) dst[i] = src[i];
}

}  // namespace

Window make_window(int64_t H, int64_t W, int64_t C, int64_t KH, int64_t KW, int64_t SH, int64_t SW,
                   int64_t DH, int64_t DW, bool same) {
  Window w{.H = H, .W = W, .C = C, .KH = KH, .KW = KW, .SH = SH, .SW = SW, .DH = DH, .DW = DW};
  axis(H, KH, SH, DH, same, w.OH, w.pad_top);
  axis(W, KW, SW, DW, same, w.OW, w.pad_left);
  return w;
}

void im2col(float* col, const float* x, const Window& w, int64_t B) {
  const int64_t depth = w.depth();
  ThreadPool::global().run_rows(B * w.OH, w.OW * depth, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* image = x + r / w.OH * w.input_size();
      for (int64_t ow = 0; ow < w.OW; ++ow) {
        float* dst = col + (r * w.OW + ow) * depth;
        for_each_run(
            w, r % w.OH, ow, [&](int64_t at, int64_t from, int64_t n) { copy_run(dst + at, image + from, n); },
            [&](int64_t at, int64_t n) { std::fill_n(dst + at, n, 0.0f); });
      }
    }
  });
}

void col2im(float* dx, bool accumulate, const float* dcol, const Window& w, int64_t B) {
  const int64_t depth = w.depth();
  ThreadPool::global().run_rows(B, w.OH * w.OW * depth, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      float* image = dx + b * w.input_size();
      if (!accumulate) std::fill_n(image, w.input_size(), 0.0f);
      for (int64_t oh = 0; oh < w.OH; ++oh)
        for (int64_t ow = 0; ow < w.OW; ++ow) {
          const float* src = dcol + ((b * w.OH + oh) * w.OW + ow) * depth;
          for_each_run(
              w, oh, ow,
              [&](int64_t at, int64_t to, int64_t n) {
                for (int64_t i = 0; i < n; ++i) image[to + i] += src[at + i];
              },
              [](int64_t, int64_t) {});
        }
    }
  });
}

}  // namespace kiln::cpu
