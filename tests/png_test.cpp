#include <spng.h>

#include "helpers.hpp"

namespace kiln {
namespace {

// An RGB PNG written with libspng directly, to check that kiln refuses it.
std::string rgb_png(uint32_t w, uint32_t h) {
  spng_ctx* ctx = spng_ctx_new(SPNG_CTX_ENCODER);
  spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1);
  spng_ihdr ihdr{};
  ihdr.width = w;
  ihdr.height = h;
  ihdr.bit_depth = 8;
  ihdr.color_type = SPNG_COLOR_TYPE_TRUECOLOR;
  spng_set_ihdr(ctx, &ihdr);
  std::vector<unsigned char> pixels(w * h * 3, 7);
  spng_encode_image(ctx, pixels.data(), pixels.size(), SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE);
  size_t size = 0;
  int err = 0;
  void* buf = spng_get_png_buffer(ctx, &size, &err);
  std::string out(static_cast<char*>(buf), size);
  free(buf);
  spng_ctx_free(ctx);
  return out;
}

TEST(Png, GrayscaleRoundTrip) {
  testing::TempDir dir;
  ByteTensor img({3, 5});
  for (int64_t i = 0; i < img.size(); ++i) img[i] = static_cast<uint8_t>(i * 17);
  io::write_png_gray(dir / "a.png", img);
  ByteTensor back = io::read_png_gray(dir / "a.png");
  EXPECT_EQ(back.shape(), (Shape{3, 5}));
  for (int64_t i = 0; i < img.size(); ++i) EXPECT_EQ(back[i], img[i]);
}

TEST(Png, OtherImagesAreRefusedWithADescription) {
  try {
    io::parse_png_gray(rgb_png(32, 32), "photo.png");
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("photo.png: expected an 8-bit grayscale PNG, received a 32x32 RGB 8-bit"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(io::parse_png_gray("GIF89a not a png at all", "x.gif"), IoError);
  EXPECT_THROW(io::parse_png_gray("", "empty.png"), IoError);
}

TEST(Png, TruncatedAndCorruptFilesThrow) {
  testing::TempDir dir;
  ByteTensor img({28, 28});
  for (int64_t i = 0; i < img.size(); ++i) img[i] = static_cast<uint8_t>(i * 31);
  io::write_png_gray(dir / "a.png", img);
  std::string bytes = io::read_file(dir / "a.png");
  EXPECT_THROW(io::parse_png_gray(bytes.substr(0, bytes.size() / 2), "half.png"), IoError);
  std::string corrupt = bytes;
  for (size_t i = 60; i < corrupt.size() - 20; ++i) corrupt[i] = static_cast<char>(corrupt[i] ^ 0x5a);
  EXPECT_THROW(io::parse_png_gray(corrupt, "corrupt.png"), IoError);
}

}  // namespace
}  // namespace kiln
