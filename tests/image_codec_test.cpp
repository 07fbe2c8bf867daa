// Image encoding and decoding beyond grey PNG: colour PNGs, JPEG both ways, BMP and GIF, with
// the malformed files a user's folder can hold (empty, not an image, truncated, a header
// claiming billions of pixels, a compression kiln does not read) each refused with a message
// that names the file.
#include <gif_lib.h>
#include <spng.h>

#include "helpers.hpp"

namespace kiln {
namespace {

ByteTensor gradient_image(const Shape& shape) {
  ByteTensor t(shape);
  const int64_t h = shape[0], w = shape[1], c = shape.size() == 3 ? shape[2] : 1;
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x)
      for (int64_t k = 0; k < c; ++k)
        t.data()[(y * w + x) * c + k] = static_cast<uint8_t>(2 * y + x + 40 * k);
  return t;
}

int max_difference(const ByteTensor& a, const ByteTensor& b) {
  int worst = 0;
  for (int64_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::abs(int(a.data()[i]) - int(b.data()[i])));
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
  for (int64_t i = 0; i < noisy.size(); ++i)
    noisy.data()[i] = static_cast<uint8_t>((i * 2654435761u) >> 13);
  std::string good = io::encode_jpeg(noisy, 90);
  for (const std::string& bad :
       {std::string(), std::string("GIF89a, not a JPEG at all"), good.substr(0, 2)}) {
    std::string msg = jpeg_error(bad);
    EXPECT_NE(msg.find("photo.jpg: not a readable JPEG"), std::string::npos) << msg;
  }
  // Truncated in the pixel data: libjpeg would fill the rest with grey and warn.
  std::string msg = jpeg_error(good.substr(0, good.size() * 2 / 3));
  EXPECT_NE(msg.find("photo.jpg: corrupt JPEG data"), std::string::npos) << msg;
  // Damaged entropy-coded data in the middle.
  std::string damaged = good;
  for (size_t i = damaged.size() / 2; i < damaged.size() / 2 + 40; ++i)
    damaged[i] = static_cast<char>(0xFF);
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
  EXPECT_NE(msg.find("photo.jpg: a 60000x60000 JPEG has more than 16777216 pixels"),
            std::string::npos)
      << msg;
}

// A BMP with a 40-byte header: `bpp` 8 (a 4-colour palette), 24 or 32; rows bottom-up unless
// top_down. Pixel (x, y) has colour index (x + y) % 4, or RGB (10x, 20y, 7) and alpha `alpha`.
std::string bmp(int width, int height, int bpp, bool top_down = false, uint8_t alpha = 0) {
  auto le = [](uint32_t v, int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += static_cast<char>(v >> (8 * i));
    return s;
  };
  const int stride = (bpp * width + 31) / 32 * 4;
  const int palette = bpp == 8 ? 4 * 4 : 0;
  const uint32_t offset = 14 + 40 + palette;
  std::string out = "BM" + le(offset + stride * height, 4) + le(0, 4) + le(offset, 4);
  out += le(40, 4) + le(width, 4) + le(top_down ? -height : height, 4) + le(1, 2) + le(bpp, 2) +
         le(0, 4) + le(stride * height, 4) + le(0, 4) + le(0, 4) + le(bpp == 8 ? 4 : 0, 4) +
         le(0, 4);
  for (int i = 0; i < palette / 4; ++i) out += le(0x00102030u * (i + 1), 4);  // B, G, R, 0
  for (int row = 0; row < height; ++row) {
    const int y = top_down ? row : height - 1 - row;
    std::string line;
    for (int x = 0; x < width; ++x) {
      if (bpp == 8) {
        line += static_cast<char>((x + y) % 4);
        continue;
      }
      line += {static_cast<char>(7), static_cast<char>(20 * y), static_cast<char>(10 * x)};
      if (bpp == 32) line += static_cast<char>(alpha);
    }
    out += line + std::string(static_cast<size_t>(stride) - line.size(), '\0');
  }
  return out;
}

void expect_rgb(const ByteTensor& t, int64_t x, int64_t y, std::vector<int> want) {
  const int64_t c = t.dim(2);
  std::vector<int> got(t.data() + (y * t.dim(1) + x) * c,
                       t.data() + (y * t.dim(1) + x) * c + want.size());
  EXPECT_EQ(got, want) << "pixel " << x << ", " << y;
}

std::string bmp_error(const std::string& bytes) {
  try {
    io::decode_image(bytes, "scan.bmp", 3);
  } catch (const IoError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

TEST(Bmp, ReadsPalettesBgrAndBgraRowsEitherWayUp) {
  for (bool top_down : {false, true}) {
    ByteTensor t = io::decode_bmp(bmp(5, 3, 24, top_down), "a.bmp");
    ASSERT_EQ(t.shape(), (Shape{3, 5, 3}));
    expect_rgb(t, 4, 2, {40, 40, 7});
    expect_rgb(t, 1, 0, {10, 0, 7});
  }
  ByteTensor p = io::decode_bmp(bmp(3, 2, 8), "p.bmp");
  expect_rgb(p, 2, 1, {0x10 * 4, 0x20 * 4, 0x30 * 4});  // index 3: 4 x (R 0x10, G 0x20, B 0x30)
  ByteTensor a = io::decode_bmp(bmp(2, 2, 32, false, 128), "a.bmp");
  ASSERT_EQ(a.shape(), (Shape{2, 2, 4}));
  expect_rgb(a, 1, 1, {10, 20, 7, 128});
  // A plain 32-bit file whose fourth bytes are all 0 is opaque.
  expect_rgb(io::decode_bmp(bmp(2, 2, 32), "z.bmp"), 0, 0, {0, 0, 7, 255});
  // Through decode_image, as grey.
  ByteTensor g = io::decode_image(bmp(5, 3, 24), "a.bmp", 1);
  EXPECT_EQ(g.data()[0], (299 * 0 + 587 * 0 + 114 * 7 + 500) / 1000);
}

TEST(Bmp, MalformedFilesAreNamed) {
  std::string good = bmp(8, 8, 24);
  EXPECT_NE(bmp_error(good.substr(0, 20)).find("scan.bmp: truncated BMP: its header"),
            std::string::npos);
  EXPECT_NE(bmp_error(good.substr(0, good.size() - 10))
                .find("scan.bmp: truncated BMP: 8 rows of 24 bytes"),
            std::string::npos)
      << bmp_error(good.substr(0, good.size() - 10));
  std::string rle = good;
  rle[30] = 1;  // compression BI_RLE8
  EXPECT_NE(bmp_error(rle).find("a compressed BMP (compression 1)"), std::string::npos)
      << bmp_error(rle);
  std::string sixteen = good;
  sixteen[28] = 16;
  EXPECT_NE(bmp_error(sixteen).find("a 16-bit BMP"), std::string::npos);
  std::string huge = good;
  for (int at : {18, 22}) {  // width and height: 60000 each
    huge[at] = static_cast<char>(60000 & 0xff);
    huge[at + 1] = static_cast<char>(60000 >> 8);
  }
  EXPECT_NE(bmp_error(huge).find("a 60000x60000 BMP has more than 16777216 pixels"),
            std::string::npos)
      << bmp_error(huge);
  std::string palette = bmp(3, 2, 8);
  palette[palette.size() - 8] = 9;  // an index past the 4-colour palette
  EXPECT_NE(bmp_error(palette).find("of a 4-colour palette"), std::string::npos)
      << bmp_error(palette);
}

// A GIF written with giflib: a `w` x `h` screen, one frame of `fw` x `fh` at (left, top) with
// pixel (x, y) = colour (x + y) % 4 of a 4-colour table, colour 3 transparent when asked.
std::string gif(int w, int h, int left, int top, int fw, int fh, bool transparent3,
                bool interlace = false) {
  std::string out;
  auto write = [](GifFileType* g, const GifByteType* data, int n) {
    static_cast<std::string*>(g->UserData)
        ->append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
    return n;
  };
  int error = 0;
  GifFileType* g = EGifOpen(&out, write, &error);
  GifColorType colours[4] = {{0, 0, 0}, {255, 0, 0}, {0, 255, 0}, {0, 0, 255}};
  ColorMapObject* map = GifMakeMapObject(4, colours);
  EGifSetGifVersion(g, true);
  EGifPutScreenDesc(g, w, h, 2, 0, map);
  if (transparent3) {
    GifByteType gcb[4] = {1, 0, 0, 3};
    EGifPutExtension(g, GRAPHICS_EXT_FUNC_CODE, 4, gcb);
  }
  EGifPutImageDesc(g, left, top, fw, fh, interlace, nullptr);
  std::vector<GifByteType> line(static_cast<size_t>(fw));
  static constexpr int kStart[] = {0, 4, 2, 1}, kStep[] = {8, 8, 4, 2};
  for (int pass = 0; pass < (interlace ? 4 : 1); ++pass)
    for (int y = interlace ? kStart[pass] : 0; y < fh; y += interlace ? kStep[pass] : 1) {
      for (int x = 0; x < fw; ++x) line[x] = static_cast<GifByteType>((x + y) % 4);
      EGifPutLine(g, line.data(), fw);
    }
  EGifCloseFile(g, &error);
  GifFreeMapObject(map);
  return out;
}

TEST(Gif, FirstFrameOnItsScreenWithTransparencyAndInterlace) {
  const std::vector<int> colour[4] = {{0, 0, 0}, {255, 0, 0}, {0, 255, 0}, {0, 0, 255}};
  for (bool interlace : {false, true}) {
    ByteTensor t = io::decode_gif(gif(12, 10, 2, 1, 9, 9, false, interlace), "a.gif");
    ASSERT_EQ(t.shape(), (Shape{10, 12, 3}));
    for (int y = 0; y < 9; ++y)
      for (int x = 0; x < 9; ++x) expect_rgb(t, 2 + x, 1 + y, colour[(x + y) % 4]);
    expect_rgb(t, 0, 0, {0, 0, 0});  // off the frame
  }
  ByteTensor t = io::decode_gif(gif(4, 4, 0, 0, 4, 4, true), "t.gif");
  expect_rgb(t, 3, 0, {0, 0, 0});  // colour 3, transparent
  expect_rgb(t, 2, 0, {0, 255, 0});
  EXPECT_EQ(io::decode_image(gif(4, 4, 0, 0, 4, 4, false), "t.gif", 4).dim(2), 4);
}

TEST(Gif, MalformedFilesAreNamed) {
  auto error = [](const std::string& bytes) {
    try {
      io::decode_image(bytes, "anim.gif", 3);
    } catch (const IoError& e) {
      return std::string(e.what());
    }
    ADD_FAILURE() << "no error";
    return std::string();
  };
  std::string good = gif(40, 40, 0, 0, 40, 40, false);
  std::string msg = error(good.substr(0, good.size() / 2));
  EXPECT_NE(msg.find("anim.gif: corrupt or truncated GIF pixel data"), std::string::npos) << msg;
  std::string huge = good;
  for (int at : {6, 8}) {  // the screen's width and height: 60000 each
    huge[at] = static_cast<char>(60000 & 0xff);
    huge[at + 1] = static_cast<char>(60000 >> 8);
  }
  msg = error(huge);
  EXPECT_NE(msg.find("anim.gif: a 60000x60000 GIF; kiln reads 1 to 16777216 pixels"),
            std::string::npos)
      << msg;
  msg = error(gif(8, 8, 4, 4, 8, 8, false));
  EXPECT_NE(msg.find("lies outside its 8x8 screen"), std::string::npos) << msg;
  msg = error(good.substr(0, 13));
  EXPECT_NE(msg.find("anim.gif"), std::string::npos) << msg;
}

}  // namespace
}  // namespace kiln
