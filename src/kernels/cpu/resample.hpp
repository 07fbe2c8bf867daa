// Resampling channels-last images through an affine map of coordinates, as TensorFlow's
// ImageProjectiveTransform does for Keras's augmentation layers: each output pixel (x, y) reads
// the input at (a0 x + a1 y + a2, b0 x + b1 y + b2), bilinearly or from the nearest pixel, with
// TensorFlow's fill modes where that falls outside the image.
#pragma once

#include <cstdint>

namespace kiln::cpu {

// A map is six floats: a0, a1, a2, b0, b1, b2; `maps` holds one per image.
constexpr int kAffineFloats = 6;

enum class Fill { kReflect, kWrap, kNearest, kConstant };

struct ResampleShape {
  int64_t H, W, C;  // input
  int64_t OH, OW;   // output
};

// out (B, OH, OW, C) from x (B, H, W, C), one map per image.
void resample(float* out, const float* x, const ResampleShape& s, int64_t B, const float* maps, Fill fill,
              bool bilinear, float fill_value);

// The adjoint: dx (B, H, W, C) = (or += with accumulate) the sum of each output gradient times
// the weight its pixel gave each input pixel. Split by images.
void resample_backward(float* dx, bool accumulate, const float* dout, const ResampleShape& s, int64_t B,
                       const float* maps, Fill fill, bool bilinear);

}  // namespace kiln::cpu
