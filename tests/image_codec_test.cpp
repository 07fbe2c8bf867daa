// Image encoding and decoding beyond grey PNG: colour PNGs, and JPEG both ways, with the
// malformed JPEGs a user's folder can hold (empty, not a JPEG, truncated, a header claiming
// billions of pixels) each refused with a message that names the file.
#include <spng.h>

#include "helpers.hpp"

namespace kiln {
namespace {

ByteTensor gradient_image(const Shape& shape) {
  ByteTensor t(shape);
  const int64_t h = shape[0], w = shape[1], c = shape.size() == 3 ? shape[2] : 1;
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x)
      for (int64_t k = 0; k < c; ++k) t.data()[(y * w + x) * c + k] = static_cast<uint8_t>(2 * y + x + 40 * k);
  return t;
}

int max_difference(const ByteTensor& a, const ByteTensor& b) {
  int worst = 0;
  for (int64_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(int(a.data()[i]) - int(b.data()[i])));
  return worst;
}

std::string jpeg_error(const std::string& bytes) {
  try {
    io::decode_jpeg(bytes, "photo.jpg");
  } catch (const IoError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

TEST(Png, ColourImagesEncodeLosslessly) {
  for (int64_t channels : {1, 2, 3, 4}) {
    ByteTensor image = gradient_image({9, 13, channels});
    std::string png = io::encode_png(image);
    spng_ctx* ctx = spng_ctx_new(0);
    spng_set_png_buffer(ctx, png.data(), png.size());
    spng_ihdr ihdr;
    ASSERT_EQ(spng_get_ihdr(ctx, &ihdr), 0);
    EXPECT_EQ(ihdr.width, 13u);
    EXPECT_EQ(ihdr.height, 9u);
    std::vector<uint8_t> rgba(9 * 13 * 4);
    ASSERT_EQ(spng_decode_image(ctx, rgba.data(), rgba.size(), SPNG_FMT_RGBA8, 0), 0);
    spng_ctx_free(ctx);
    for (int64_t p = 0; p < 9 * 13; ++p) {
      const uint8_t* px = image.data() + p * channels;
      const uint8_t* got = rgba.data() + p * 4;
      const bool grey = channels <= 2;
      EXPECT_EQ(got[0], px[0]);
      EXPECT_EQ(got[1], grey ? px[0] : px[1]);
      EXPECT_EQ(got[2], grey ? px[0] : px[2]);
      EXPECT_EQ(got[3], channels == 2 ? px[1] : channels == 4 ? px[3] : 255);
    }
  }
  EXPECT_THROW(io::encode_png(ByteTensor({4, 4, 5})), ShapeError);
  EXPECT_THROW(io::encode_png(ByteTensor({4})), ShapeError);
}

TEST(Jpeg, RoundTripsGreyAndColourClosely) {
  for (const Shape& shape : {Shape{28, 28}, Shape{32, 24, 1}, Shape{32, 24, 3}}) {
    ByteTensor image = gradient_image(shape);
    ByteTensor back = io::decode_jpeg(io::encode_jpeg(image, 95), "x.jpg");
    const int64_t channels = shape.size() == 3 ? shape[2] : 1;
    ASSERT_EQ(back.shape(), (Shape{shape[0], shape[1], channels}));
    EXPECT_LE(max_difference(image, back), 4) << shape_str(shape);
  }
  // A lower quality is smaller and further off.
  ByteTensor image = gradient_image({64, 64, 3});
  EXPECT_LT(io::encode_jpeg(image, 30).size(), io::encode_jpeg(image, 95).size());
  EXPECT_THROW(io::encode_jpeg(image, 0), ValueError);
  EXPECT_THROW(io::encode_jpeg(ByteTensor({4, 4, 4}), 90), ShapeError);
}

TEST(Jpeg, MalformedFilesAreNamedNotDecoded) {
  // Noisy pixels, so that the entropy-coded data is most of the file.
  ByteTensor noisy({64, 64, 3});
  for (int64_t i = 0; i < noisy.size(); ++i) noisy.data()[i] = static_cast<uint8_t>((i * 2654435761u) >> 13);
  std::string good = io::encode_jpeg(noisy, 90);
  for (const std::string& bad : {std::string(), std::string("GIF89a, not a JPEG at all"), good.substr(0, 2)}) {
    std::string msg = jpeg_error(bad);
    EXPECT_NE(msg.find("photo.jpg: not a readable JPEG"), std::string::npos) << msg;
  }
  // Truncated in the pixel data: libjpeg would fill the rest with grey and warn.
  std::string msg = jpeg_error(good.substr(0, good.size() * 2 / 3));
  EXPECT_NE(msg.find("photo.jpg: corrupt JPEG data"), std::string::npos) << msg;
  // Damaged entropy-coded data in the middle.
  std::string damaged = good;
  for (size_t i = damaged.size() / 2; i < damaged.size() / 2 + 40; ++i) damaged[i] = static_cast<char>(0xFF);
  msg = jpeg_error(damaged);
  EXPECT_NE(msg.find("photo.jpg"), std::string::npos) << msg;
}

TEST(Jpeg, HugeDimensionsAreRefusedFromTheHeader) {
  std::string jpeg = io::encode_jpeg(gradient_image({8, 8}), 90);
  // The baseline frame header: FF C0, length (2 bytes), precision (1), height (2), width (2).
  size_t sof = jpeg.find("\xFF\xC0");
  ASSERT_NE(sof, std::string::npos);
  for (size_t i : {sof + 5, sof + 7}) {
    jpeg[i] = static_cast<char>(60000 >> 8);
    jpeg[i + 1] = static_cast<char>(60000 & 0xFF);
  }
  std::string msg = jpeg_error(jpeg);
  EXPECT_NE(msg.find("photo.jpg: a 60000x60000 JPEG has more than 16777216 pixels"), std::string::npos) << msg;
}

}  // namespace
}  // namespace kiln
