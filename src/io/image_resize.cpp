// Resizing uint8 images as TensorFlow's tf.image.resize does (half-pixel centres, no
// antialiasing), the result rounded back to uint8; and Keras's smart_resize crop.
#include <cmath>

#include "kiln/io.hpp"

namespace kiln::io {

namespace {

// The input pixels one output pixel of an axis reads and their weights.
struct Taps {
  std::vector<int64_t> index;
  std::vector<float> weight;
  std::vector<int64_t> start;  // per output pixel, into index/weight; one past the end last
};

Taps axis_taps(int64_t in, int64_t out, const std::string& method) {
  Taps t;
  const double scale = static_cast<double>(in) / static_cast<double>(out);
  for (int64_t o = 0; o < out; ++o) {
    t.start.push_back(static_cast<int64_t>(t.index.size()));
    if (method == "nearest") {
      t.index.push_back(std::min(static_cast<int64_t>(std::floor((o + 0.5) * scale)), in - 1));
      t.weight.push_back(1.0f);
    } else if (method == "bilinear") {
      const double x = (o + 0.5) * scale - 0.5;
      const double lerp = x - std::floor(x);
      const int64_t lo = std::max<int64_t>(static_cast<int64_t>(std::floor(x)), 0);
      const int64_t hi = std::min<int64_t>(static_cast<int64_t>(std::ceil(x)), in - 1);
      t.index.push_back(lo);
      t.weight.push_back(static_cast<float>(1 - lerp));
      t.index.push_back(hi);
      t.weight.push_back(static_cast<float>(lerp));
    } else {  // area: the share of each input pixel the output pixel's box covers
      const double begin = o * scale, end = (o + 1) * scale;
      for (auto i = static_cast<int64_t>(std::floor(begin));
           i < std::min<double>(std::ceil(end), in); ++i) {
        const double cover = std::min<double>(i + 1, end) - std::max<double>(i, begin);
        if (cover <= 0) continue;
        t.index.push_back(i);
        t.weight.push_back(static_cast<float>(cover / scale));
      }
    }
  }
  t.start.push_back(static_cast<int64_t>(t.index.size()));
  return t;
}

}  // namespace

ByteTensor resize_image(const ByteTensor& image, int64_t height, int64_t width,
                        const std::string& interpolation) {
  if (interpolation != "bilinear" && interpolation != "nearest" && interpolation != "area")
    throw ValueError("interpolation must be one of bilinear, nearest, area; received \"" +
                     interpolation + "\"");
  if (image.rank() != 3 || image.size() == 0)
    throw ShapeError(
        "resize_image: expected a non-empty (height, width, channels) image, received " +
        shape_str(image.shape()));
  if (height < 1 || width < 1)
    throw ValueError("resize_image: the size must be positive, received " + std::to_string(height) +
                     "x" + std::to_string(width));
  const int64_t H = image.dim(0), W = image.dim(1), C = image.dim(2);
  if (H == height && W == width) return image;
  const Taps ty = axis_taps(H, height, interpolation), tx = axis_taps(W, width, interpolation);
  ByteTensor out({height, width, C});
  std::vector<float> acc(static_cast<size_t>(C));
  for (int64_t y = 0; y < height; ++y)
    for (int64_t x = 0; x < width; ++x) {
      std::fill(acc.begin(), acc.end(), 0.0f);
      for (int64_t a = ty.start[y]; a < ty.start[y + 1]; ++a)
        for (int64_t b = tx.start[x]; b < tx.start[x + 1]; ++b) {
          const float w = ty.weight[a] * tx.weight[b];
          const uint8_t* px = image.data() + (ty.index[a] * W + tx.index[b]) * C;
          for (int64_t c = 0; c < C; ++c) acc[c] += w * px[c];
        }
      uint8_t* o = out.data() + (y * width + x) * C;
      for (int64_t c = 0; c < C; ++c)
        o[c] = static_cast<uint8_t>(std::clamp(std::lround(acc[c]), 0L, 255L));
    }
  return out;
}

ByteTensor prepare_image(const std::string& bytes, const std::string& source, int64_t height, int64_t width,
                         int64_t channels, const std::string& interpolation, bool crop) {
  ByteTensor image = decode_image(bytes, source, channels);
  if (crop) image = crop_to_aspect_ratio(image, height, width);
  return resize_image(image, height, width, interpolation);
}

ByteTensor crop_to_aspect_ratio(const ByteTensor& image, int64_t height, int64_t width) {
  const int64_t H = image.dim(0), W = image.dim(1), C = image.dim(2);
  const int64_t crop_h =
      std::max<int64_t>(std::min<int64_t>(H, static_cast<int64_t>(double(W) * height / width)), 1);
  const int64_t crop_w =
      std::max<int64_t>(std::min<int64_t>(W, static_cast<int64_t>(double(H) * width / height)), 1);
  const int64_t top = (H - crop_h) / 2, left = (W - crop_w) / 2;
  if (crop_h == H && crop_w == W) return image;
  ByteTensor out({crop_h, crop_w, C});
  for (int64_t y = 0; y < crop_h; ++y)
    std::copy_n(image.data() + ((top + y) * W + left) * C, crop_w * C, out.data() + y * crop_w * C);
  return out;
}

}  // namespace kiln::io
