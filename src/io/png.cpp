// PNG reading (8-bit grey) and writing (grey, grey+alpha, RGB, RGBA) with libspng.
#include <spng.h>

#include <memory>

#include "kiln/io.hpp"

namespace kiln::io {

namespace {

using Ctx = std::unique_ptr<spng_ctx, void (*)(spng_ctx*)>;

std::string describe(const spng_ihdr& h) {
  const char* kind = "unknown colour type";
  switch (h.color_type) {
    case SPNG_COLOR_TYPE_GRAYSCALE: kind = "grayscale"; break;
    case SPNG_COLOR_TYPE_TRUECOLOR: kind = "RGB"; break;
    case SPNG_COLOR_TYPE_INDEXED: kind = "palette"; break;
    case SPNG_COLOR_TYPE_GRAYSCALE_ALPHA: kind = "grayscale+alpha"; break;
    case SPNG_COLOR_TYPE_TRUECOLOR_ALPHA: kind = "RGBA"; break;
  }
  return std::to_string(h.width) + "x" + std::to_string(h.height) + " " + kind + " " +
         std::to_string(h.bit_depth) + "-bit";
}

}  // namespace

ByteTensor parse_png_gray(const std::string& bytes, const std::string& source, const Shape& expected) {
  Ctx ctx(spng_ctx_new(0), &spng_ctx_free);
  if (!ctx) throw IoError(source + ": cannot start the PNG decoder");
  spng_set_image_limits(ctx.get(), 1 << 14, 1 << 14);
  spng_set_png_buffer(ctx.get(), bytes.data(), bytes.size());
  spng_ihdr ihdr;
  if (int rc = spng_get_ihdr(ctx.get(), &ihdr))
    throw IoError(source + ": not a readable PNG: " + spng_strerror(rc));
  if (ihdr.color_type != SPNG_COLOR_TYPE_GRAYSCALE || ihdr.bit_depth != 8)
    throw IoError(source + ": expected an 8-bit grayscale PNG, received a " + describe(ihdr) + " image");
  // Sizes are checked on the header, before the pixels are allocated: a 100-byte file can claim
  // 16384 x 16384 pixels.
  const Shape shape{static_cast<int64_t>(ihdr.height), static_cast<int64_t>(ihdr.width)};
  if (!expected.empty() && shape != expected)
    throw ShapeError(source + ": expected a " + std::to_string(expected.back()) + "x" +
                     std::to_string(expected.front()) + " image (width x height), received a " + describe(ihdr) +
                     " PNG");
  if (shape_size(shape) > kMaxImagePixels)
    throw IoError(source + ": a " + describe(ihdr) + " PNG has more than " + std::to_string(kMaxImagePixels) +
                  " pixels, the most kiln reads");
  ByteTensor image({static_cast<int64_t>(ihdr.height), static_cast<int64_t>(ihdr.width)});
  if (int rc = spng_decode_image(ctx.get(), image.data(), static_cast<size_t>(image.size()), SPNG_FMT_G8, 0))
    throw IoError(source + ": corrupt PNG data: " + spng_strerror(rc));
  return image;
}

ByteTensor read_png_gray(const std::filesystem::path& path, const Shape& expected) {
  return parse_png_gray(read_file(path), path.string(), expected);
}

std::string encode_png(const ByteTensor& image) {
  const int64_t channels = image.rank() == 3 ? image.dim(2) : 1;
  if ((image.rank() != 2 && image.rank() != 3) || channels < 1 || channels > 4 || image.size() == 0)
    throw ShapeError("encode_png: expected an image shaped (height, width) or (height, width, channels) with 1 to "
                     "4 channels, received " + shape_str(image.shape()));
  static constexpr uint8_t kColorType[] = {SPNG_COLOR_TYPE_GRAYSCALE, SPNG_COLOR_TYPE_GRAYSCALE_ALPHA,
                                           SPNG_COLOR_TYPE_TRUECOLOR, SPNG_COLOR_TYPE_TRUECOLOR_ALPHA};
  Ctx ctx(spng_ctx_new(SPNG_CTX_ENCODER), &spng_ctx_free);
  if (!ctx) throw IoError("cannot start the PNG encoder");
  spng_set_option(ctx.get(), SPNG_ENCODE_TO_BUFFER, 1);
  spng_ihdr ihdr{};
  ihdr.width = static_cast<uint32_t>(image.dim(1));
  ihdr.height = static_cast<uint32_t>(image.dim(0));
  ihdr.bit_depth = 8;
  ihdr.color_type = kColorType[channels - 1];
  spng_set_ihdr(ctx.get(), &ihdr);
  if (int rc = spng_encode_image(ctx.get(), image.data(), static_cast<size_t>(image.size()), SPNG_FMT_PNG,
                                 SPNG_ENCODE_FINALIZE))
    throw IoError(std::string("PNG encoding failed: ") + spng_strerror(rc));
  size_t size = 0;
  int rc = 0;
  std::unique_ptr<void, void (*)(void*)> buf(spng_get_png_buffer(ctx.get(), &size, &rc), &free);
  if (!buf || rc) throw IoError(std::string("PNG encoding failed: ") + spng_strerror(rc));
  return std::string(static_cast<const char*>(buf.get()), size);
}

void write_png_gray(const std::filesystem::path& path, const ByteTensor& image) {
  if (image.rank() != 2)
    throw ShapeError("write_png_gray: expected an image shaped (height, width), received " + shape_str(image.shape()));
  write_file_atomic(path, encode_png(image));
}

}  // namespace kiln::io
