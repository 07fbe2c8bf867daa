// Windows bitmaps, read by hand (the format is a header and rows): the core (OS/2) and the
// Windows 3 to 5 headers, 1-, 4- and 8-bit palettes, 24-bit BGR and 32-bit BGRA rows (plain or
// with the standard bit-field masks), bottom-up or top-down. Compressed (RLE) and 16-bit files
// are refused by name. Every size and offset is checked against the file before it is read.
#include "kiln/io.hpp"

namespace kiln::io {

namespace {

struct Reader {
  const std::string& bytes;
  const std::string& source;
  uint32_t u(size_t at, int n) const {
    if (at + static_cast<size_t>(n) > bytes.size())
      throw IoError(source + ": truncated BMP: its header needs " + std::to_string(at + n) +
                    " bytes, the file has " + std::to_string(bytes.size()));
    uint32_t v = 0;
    for (int i = n - 1; i >= 0; --i)
      v = v << 8 | static_cast<uint8_t>(bytes[at + static_cast<size_t>(i)]);
    return v;
  }
};

}  // namespace

ByteTensor decode_bmp(const std::string& bytes, const std::string& source) {
  const Reader r{bytes, source};
  if (bytes.size() < 2 || bytes[0] != 'B' || bytes[1] != 'M')
    throw IoError(source + ": not a BMP file");
  const uint32_t pixels_at = r.u(10, 4), header = r.u(14, 4);
  const bool core = header == 12;
  if (!core && header != 40 && header != 52 && header != 56 && header != 108 && header != 124)
    throw IoError(source + ": a BMP header of " + std::to_string(header) +
                  " bytes; kiln reads 12, 40, 52, 56, 108 and 124");
  // Signed in the Windows headers (a negative height means rows top-down).
  const int64_t width = core ? int64_t{r.u(18, 2)} : int64_t{static_cast<int32_t>(r.u(18, 4))};
  const int64_t raw_height = core ? int64_t{r.u(20, 2)} : int64_t{static_cast<int32_t>(r.u(22, 4))};
  const uint32_t bpp = core ? r.u(24, 2) : r.u(28, 2);
  const uint32_t compression = core ? 0 : r.u(30, 4);
  const bool top_down = raw_height < 0;
  const int64_t height = top_down ? -raw_height : raw_height;
  if (width <= 0 || height <= 0)
    throw IoError(source + ": a BMP of " + std::to_string(width) + "x" +
                  std::to_string(raw_height) + " pixels");
  if (width * height > kMaxImagePixels)
    throw IoError(source + ": a " + std::to_string(width) + "x" + std::to_string(height) +
                  " BMP has more than " + std::to_string(kMaxImagePixels) +
                  " pixels, the most kiln reads");
  const bool palette = bpp == 1 || bpp == 4 || bpp == 8;
  if (!palette && bpp != 24 && bpp != 32)
    throw IoError(source + ": a " + std::to_string(bpp) +
                  "-bit BMP; kiln reads 1-, 4-, 8-, 24- and 32-bit ones");
  if (compression != 0 && !(compression == 3 && bpp == 32))
    throw IoError(source + ": a compressed BMP (compression " + std::to_string(compression) +
                  "); kiln reads uncompressed ones and 32-bit bit fields");
  // 32-bit: where red, green, blue and alpha sit in each pixel (the masks follow a 40-byte header).
  uint32_t masks[4] = {0x00ff0000, 0x0000ff00, 0x000000ff, 0xff000000};
  if (compression == 3) {
    const size_t at = 14 + 40;
    for (int c = 0; c < 3; ++c) masks[c] = r.u(at + 4 * c, 4);
    masks[3] = header >= 56 ? r.u(at + 12, 4) : 0;
  }
  int shift[4];
  for (int c = 0; c < 4; ++c) {
    if (masks[c] != 0 && masks[c] != 0xffu << (shift[c] = __builtin_ctz(masks[c])))
      throw IoError(source + ": a 32-bit BMP whose colour masks are not whole bytes");
    if (masks[c] == 0) shift[c] = -1;
  }
  std::vector<uint8_t> colours;  // RGB triples
  if (palette) {
    const uint32_t used = core ? 0 : r.u(46, 4);
    const uint32_t entries = used ? used : 1u << bpp;
    if (entries > 256)
      throw IoError(source + ": a BMP palette of " + std::to_string(entries) + " colours");
    const size_t at = 14 + header, size = core ? 3 : 4;
    for (uint32_t i = 0; i < entries; ++i) {
      const uint32_t bgr = r.u(at + i * size, 3);
      colours.insert(colours.end(), {uint8_t(bgr >> 16), uint8_t(bgr >> 8), uint8_t(bgr)});
    }
  }
  const int64_t stride = (static_cast<int64_t>(bpp) * width + 31) / 32 * 4;
  if (static_cast<uint64_t>(pixels_at) + static_cast<uint64_t>(stride * height) > bytes.size())
    throw IoError(source + ": truncated BMP: " + std::to_string(height) + " rows of " +
                  std::to_string(stride) + " bytes from offset " + std::to_string(pixels_at) +
                  " need more than its " + std::to_string(bytes.size()) + " bytes");
  const int64_t channels = bpp == 32 ? 4 : 3;
  ByteTensor image({height, width, channels});
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data()) + pixels_at;
  bool any_alpha = false;
  for (int64_t y = 0; y < height; ++y) {
    const uint8_t* row = data + (top_down ? y : height - 1 - y) * stride;
    uint8_t* out = image.data() + y * width * channels;
    for (int64_t x = 0; x < width; ++x, out += channels) {
      if (palette) {
        const int64_t bit = x * bpp;
        const unsigned index = (row[bit / 8] >> (8 - bpp - bit % 8)) & ((1u << bpp) - 1);
        if (3 * index >= colours.size())
          throw IoError(source + ": pixel (" + std::to_string(x) + ", " + std::to_string(y) +
                        ") uses colour " + std::to_string(index) + " of a " +
                        std::to_string(colours.size() / 3) + "-colour palette");
        std::copy_n(colours.data() + 3 * index, 3, out);
      } else if (bpp == 24) {
        out[0] = row[3 * x + 2];
        out[1] = row[3 * x + 1];
        out[2] = row[3 * x];
      } else {
        const uint32_t px = uint32_t(row[4 * x]) | uint32_t(row[4 * x + 1]) << 8 |
                            uint32_t(row[4 * x + 2]) << 16 | uint32_t(row[4 * x + 3]) << 24;
        for (int c = 0; c < 4; ++c)
          out[c] = shift[c] < 0 ? 255 : static_cast<uint8_t>(px >> shift[c]);
        any_alpha = any_alpha || out[3] != 0;
      }
    }
  }
  // Many writers leave a plain 32-bit BMP's fourth byte 0: such an image is opaque, not invisible.
  if (bpp == 32 && !any_alpha)
    for (int64_t p = 0; p < width * height; ++p) image.data()[p * 4 + 3] = 255;
  return image;
}

}  // namespace kiln::io
