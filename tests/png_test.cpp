#include <spng.h>
#include <zlib.h>

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

// A valid 8-bit grayscale PNG of width x height black pixels, built chunk by chunk so that a huge
// image costs only its compressed size (a few hundred bytes per megapixel).
std::string big_gray_png(uint32_t width, uint32_t height) {
  auto be32 = [](uint32_t v) {
    return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                       static_cast<char>(v)};
  };
  auto chunk = [&](const std::string& type, const std::string& data) {
    std::string body = type + data;
    uLong crc = crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()));
    return be32(static_cast<uint32_t>(data.size())) + body + be32(static_cast<uint32_t>(crc));
  };
  std::string ihdr = be32(width) + be32(height) + std::string{8, 0, 0, 0, 0};  // 8-bit gray
  std::string idat;
  z_stream z{};
  deflateInit(&z, Z_BEST_SPEED);
  std::vector<unsigned char> row(width + 1, 0), out(1 << 16);  // filter byte 0, then the pixels
  for (uint32_t r = 0; r <= height; ++r) {
    z.next_in = row.data();
    z.avail_in = r < height ? static_cast<uInt>(row.size()) : 0;
    do {
      z.next_out = out.data();
      z.avail_out = static_cast<uInt>(out.size());
      deflate(&z, r < height ? Z_NO_FLUSH : Z_FINISH);
      idat.append(reinterpret_cast<char*>(out.data()), out.size() - z.avail_out);
    } while (z.avail_out == 0);
  }
  deflateEnd(&z);
  return std::string("\x89PNG\r\n\x1a\n", 8) + chunk("IHDR", ihdr) + chunk("IDAT", idat) + chunk("IEND", "");
}

TEST(Png, SizesAreCheckedOnTheHeaderBeforeThePixelsAreAllocated) {
  // 16000 x 16000 would take 256 MB; the model takes 28 x 28.
  std::string huge = big_gray_png(16000, 16000);
  EXPECT_LT(huge.size(), 2u << 20) << "a small file claiming a huge image";
  try {
    io::parse_png_gray(huge, "huge.png", {28, 28});
    FAIL() << "decoded a 256-megapixel image for a 28x28 model";
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("huge.png: expected a 28x28 image (width x height), received a "
                                         "16000x16000 grayscale 8-bit PNG"),
              std::string::npos)
        << e.what();
  }
  try {
    io::parse_png_gray(huge, "huge.png");
    FAIL() << "decoded a 256-megapixel image";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("more than 16777216 pixels"), std::string::npos) << e.what();
  }
  ByteTensor ok = io::parse_png_gray(big_gray_png(300, 200), "ok.png", {200, 300});
  EXPECT_EQ(ok.shape(), (Shape{200, 300}));
  EXPECT_THROW(io::parse_png_gray(big_gray_png(300, 200), "wrong.png", {300, 200}), ShapeError);
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
