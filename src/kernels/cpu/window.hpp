// The geometry of a 2-D sliding window over channels-last images (N, H, W, C): convolutions and
// pooling. Padding follows TensorFlow: "valid" takes no padding; "same" gives ceil(H / stride)
// outputs and pads what that needs, the odd row or column at the bottom or right.
#pragma once

#include <cstdint>

#include "kernels/cpu/gemm.hpp"

namespace kiln::cpu {

struct Window {
  int64_t H = 0, W = 0, C = 0;        // input, per sample
  int64_t KH = 1, KW = 1;             // window (kernel or pool size)
  int64_t SH = 1, SW = 1;             // strides
  int64_t DH = 1, DW = 1;             // dilation
  int64_t OH = 0, OW = 0;             // output
  int64_t pad_top = 0, pad_left = 0;  // the bottom and right pads are what the output needs

  // Values per window: KH * KW * C, ordered (kh, kw, c) as a Keras kernel [kh, kw, in, out].
  int64_t depth() const { return KH * KW * C; }
  int64_t input_size() const { return H * W * C; }
  // Whether every window is one input pixel: a 1x1 window, stride 1, no padding. The image
  // itself is then the im2col matrix.
  bool pointwise() const { return KH == 1 && KW == 1 && SH == 1 && SW == 1; }
  // Whether every window lies inside the image (no padding) with its columns adjacent (no
  // dilation across): a product can then read the windows from the image itself (windows()).
  bool readable_in_place() const {
    return pad_top == 0 && pad_left == 0 && DW == 1 && (OH - 1) * SH + (KH - 1) * DH < H &&
           (OW - 1) * SW + KW - 1 < W;
  }
  // The windows of images x as a product's A, one run per kernel row; needs readable_in_place().
  WindowA windows(const float* x) const {
    return {x, input_size(), OH, OW, SH * W * C, SW * C, KW * C, KH, DH * W * C};
  }
};

// The window for an input of H x W x C; OH or OW comes out 0 or less when the (dilated) window
// does not fit a "valid" input.
Window make_window(int64_t H, int64_t W, int64_t C, int64_t KH, int64_t KW, int64_t SH, int64_t SW,
                   int64_t DH, int64_t DW, bool same);

// col (B * OH * OW, depth) = each output position's window of x (B, H, W, C), zeros where the
// window covers padding. Split across the pool by output rows.
void im2col(float* col, const float* x, const Window& w, int64_t B);

// dx (B, H, W, C) = (or += with accumulate) the sum, over the windows that cover each input
// value, of its entry in dcol (B * OH * OW, depth): the adjoint of im2col. Split by samples, so
// each value is summed by one thread in one order.
void col2im(float* dx, bool accumulate, const float* dcol, const Window& w, int64_t B);

}  // namespace kiln::cpu
