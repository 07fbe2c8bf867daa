// Any supported image file (PNG, JPEG, BMP, GIF) to (height, width, channels) uint8: the format is
// told by its first bytes, not its name, and the colours are converted as TensorFlow's decode_image
// does for Keras (grey to colour by copying, colour to grey by luma, alpha added opaque or
// dropped).
#include <spng.h>

#include <memory>

#include "kiln/io.hpp"

namespace kiln::io {

namespace {

bool starts_with(const std::string& bytes, std::string_view magic) {
  return bytes.size() >= magic.size() && std::string_view(bytes).substr(0, magic.size()) == magic;
}

// Any PNG (palette, grey, 16-bit, alpha) as RGBA, the size checked on the header first.
ByteTensor decode_png_rgba(const std::string& bytes, const std::string& source) {
  std::unique_ptr<spng_ctx, void (*)(spng_ctx*)> ctx(spng_ctx_new(0), &spng_ctx_free);
  if (!ctx) throw IoError(source + ": cannot start the PNG decoder");
  spng_set_image_limits(ctx.get(), 1u << 30, 1u << 30);  // kiln checks the pixel count itself
  spng_set_png_buffer(ctx.get(), bytes.data(), bytes.size());
  spng_ihdr ihdr;
  if (int rc = spng_get_ihdr(ctx.get(), &ihdr))
    throw IoError(source + ": not a readable PNG: " + spng_strerror(rc));
  const int64_t h = ihdr.height, w = ihdr.width;
  if (h * w > kMaxImagePixels)
    throw IoError(source + ": a " + std::to_string(w) + "x" + std::to_string(h) +
                  " PNG has more than " + std::to_string(kMaxImagePixels) +
                  " pixels, the most kiln reads");
  ByteTensor rgba({h, w, 4});
  if (int rc = spng_decode_image(ctx.get(), rgba.data(), static_cast<size_t>(rgba.size()),
                                 SPNG_FMT_RGBA8, SPNG_DECODE_TRNS))
    throw IoError(source + ": corrupt PNG data: " + spng_strerror(rc));
  return rgba;
}

uint8_t luma(const uint8_t* rgb) {
  return static_cast<uint8_t>((299 * rgb[0] + 587 * rgb[1] + 114 * rgb[2] + 500) / 1000);
}

}  // namespace

ByteTensor convert_channels(const ByteTensor& image, int64_t channels) {
  if (image.rank() != 3 || image.dim(2) < 1 || image.dim(2) > 4 || image.dim(2) == 2)
    throw ShapeError("convert_channels: expected (height, width, 1, 3 or 4 channels), received " +
                     shape_str(image.shape()));
  if (channels != 1 && channels != 3 && channels != 4)
    throw ValueError("convert_channels: channels must be 1, 3 or 4, received " +
                     std::to_string(channels));
  const int64_t from = image.dim(2);
  if (from == channels) return image;
  const int64_t pixels = image.dim(0) * image.dim(1);
  ByteTensor out({image.dim(0), image.dim(1), channels});
  const uint8_t* in = image.data();
  uint8_t* o = out.data();
  for (int64_t p = 0; p < pixels; ++p, in += from, o += channels) {
    if (channels == 1) {
      o[0] = from == 1 ? in[0] : luma(in);
      continue;
    }
    for (int c = 0; c < 3; ++c) o[c] = from == 1 ? in[0] : in[c];
    if (channels == 4) o[3] = from == 4 ? in[3] : 255;
  }
  return out;
}

ImageInfo image_info(const std::string& bytes, const std::string& source) {
  if (starts_with(bytes, "\x89PNG\r\n\x1a\n") && bytes.size() >= 33) {
    auto be32 = [&](size_t at) {
      const auto* b = reinterpret_cast<const uint8_t*>(bytes.data()) + at;
      return int64_t{b[0]} << 24 | int64_t{b[1]} << 16 | int64_t{b[2]} << 8 | int64_t{b[3]};
    };
    // IHDR: width, height, bit depth, then the colour type (0 grey, 2 RGB, 3 palette, 4 grey
    // and alpha, 6 RGBA); a palette's transparency is ignored here.
    const uint8_t type = static_cast<uint8_t>(bytes[25]);
    return {be32(20), be32(16), type == 0 ? 1 : (type == 4 || type == 6) ? 4 : 3};
  }
  // Anything else is a JPEG, whose channels need its header read, or an error decode_image names.
  ByteTensor native = starts_with(bytes, "\xFF\xD8\xFF") ? decode_jpeg(bytes, source)
                                                         : decode_image(bytes, source, 3);
  return {native.dim(0), native.dim(1), native.dim(2)};
}

ByteTensor decode_image(const std::string& bytes, const std::string& source, int64_t channels) {
  if (starts_with(bytes, "\x89PNG\r\n\x1a\n")) {
    ByteTensor rgba = decode_png_rgba(bytes, source);
    return convert_channels(rgba, channels);
  }
  if (starts_with(bytes, "\xFF\xD8\xFF"))
    return convert_channels(decode_jpeg(bytes, source), channels);
  if (starts_with(bytes, "BM")) return convert_channels(decode_bmp(bytes, source), channels);
  if (starts_with(bytes, "GIF87a") || starts_with(bytes, "GIF89a"))
    return convert_channels(decode_gif(bytes, source), channels);
  if (bytes.empty()) throw IoError(source + ": an empty file, not an image");
  throw IoError(
      source +
      ": not an image kiln reads (PNG, JPEG, BMP or GIF): its first bytes match none of them");
}

}  // namespace kiln::io
