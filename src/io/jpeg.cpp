// JPEG encoding and decoding with libjpeg-turbo. libjpeg reports errors through a callback that
// must not return; it long-jumps back to the function that called setjmp. Those functions hold
// only trivially destructible locals, and the state both sides touch lives in a struct owned by
// the caller, so nothing is skipped or left indeterminate by the jump.
#include <csetjmp>
#include <cstdio>
#include <cstdlib>

// jpeglib.h needs size_t and FILE declared before it.
#include <jpeglib.h>

#include "kiln/io.hpp"

namespace kiln::io {

namespace {

struct Failure {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void fail(j_common_ptr info) {
  auto* f = reinterpret_cast<Failure*>(info->err);
  (*info->err->format_message)(info, f->message);
  std::longjmp(f->jump, 1);
}

// Warnings (level -1) mean corrupt data that libjpeg would paper over: a truncated file decodes
// with grey rows. They fail the decode; trace messages (level >= 0) are ignored.
void on_message(j_common_ptr info, int level) {
  if (level < 0) fail(info);
}

void attach(Failure& f, j_common_ptr info) {
  info->err = jpeg_std_error(&f.mgr);
  f.mgr.error_exit = &fail;
  f.mgr.emit_message = &on_message;
  f.message[0] = '\0';
}

struct Decoder {
  jpeg_decompress_struct info{};
  Failure failure{};
  bool created = false;
  Decoder() { attach(failure, reinterpret_cast<j_common_ptr>(&info)); }
  ~Decoder() {
    if (created) jpeg_destroy_decompress(&info);
  }
};

bool read_header(Decoder& d, const std::string& bytes) {
  if (setjmp(d.failure.jump)) return false;
  jpeg_create_decompress(&d.info);
  d.created = true;
  jpeg_mem_src(&d.info, reinterpret_cast<const unsigned char*>(bytes.data()),
               static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&d.info, TRUE);
  d.info.out_color_space = d.info.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_calc_output_dimensions(&d.info);
  return true;
}

bool read_pixels(Decoder& d, uint8_t* out, size_t row_bytes) {
  if (setjmp(d.failure.jump)) return false;
  jpeg_start_decompress(&d.info);
  while (d.info.output_scanline < d.info.output_height) {
    JSAMPROW row = out + static_cast<size_t>(d.info.output_scanline) * row_bytes;
    jpeg_read_scanlines(&d.info, &row, 1);
  }
  jpeg_finish_decompress(&d.info);
  return true;
}

struct Encoder {
  jpeg_compress_struct info{};
  Failure failure{};
  bool created = false;
  unsigned char* out = nullptr;
  unsigned long size = 0;
  Encoder() { attach(failure, reinterpret_cast<j_common_ptr>(&info)); }
  ~Encoder() {
    if (created) jpeg_destroy_compress(&info);
    std::free(out);
  }
};

bool compress(Encoder& e, const uint8_t* pixels, int height, int width, int channels, int quality) {
  if (setjmp(e.failure.jump)) return false;
  jpeg_create_compress(&e.info);
  e.created = true;
  jpeg_mem_dest(&e.info, &e.out, &e.size);
  e.info.image_width = static_cast<JDIMENSION>(width);
  e.info.image_height = static_cast<JDIMENSION>(height);
  e.info.input_components = channels;
  e.info.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&e.info);
  jpeg_set_quality(&e.info, quality, TRUE);
  if (channels == 3 && quality >= 90)
    for (int c = 0; c < 3; ++c)
      e.info.comp_info[c].h_samp_factor = e.info.comp_info[c].v_samp_factor = 1;
  jpeg_start_compress(&e.info, TRUE);
  const size_t row_bytes = static_cast<size_t>(width) * static_cast<size_t>(channels);
  while (e.info.next_scanline < e.info.image_height) {
    auto row = const_cast<JSAMPROW>(pixels + e.info.next_scanline * row_bytes);
    jpeg_write_scanlines(&e.info, &row, 1);
  }
  jpeg_finish_compress(&e.info);
  return true;
}

}  // namespace

std::string encode_jpeg(const ByteTensor& image, int quality) {
  const int64_t channels = image.rank() == 3 ? image.dim(2) : 1;
  if ((image.rank() != 2 && image.rank() != 3) || (channels != 1 && channels != 3) ||
      image.size() == 0 || image.dim(0) > JPEG_MAX_DIMENSION || image.dim(1) > JPEG_MAX_DIMENSION)
    throw ShapeError(
        "encode_jpeg: expected an image shaped (height, width) or (height, width, 1 or 3), each "
        "side at "
        "most " +
        std::to_string(JPEG_MAX_DIMENSION) + ", received " + shape_str(image.shape()));
  if (quality < 1 || quality > 100)
    throw ValueError("encode_jpeg: quality must be 1 to 100, received " + std::to_string(quality));
  Encoder e;
  if (!compress(e, image.data(), static_cast<int>(image.dim(0)), static_cast<int>(image.dim(1)),
                static_cast<int>(channels), quality))
    throw IoError(std::string("JPEG encoding failed: ") + e.failure.message);
  return std::string(reinterpret_cast<const char*>(e.out), e.size);
}

ByteTensor decode_jpeg(const std::string& bytes, const std::string& source) {
  Decoder d;
  if (!read_header(d, bytes)) throw IoError(source + ": not a readable JPEG: " + d.failure.message);
  if (d.info.jpeg_color_space == JCS_CMYK || d.info.jpeg_color_space == JCS_YCCK)
    throw IoError(source + ": a CMYK JPEG; kiln reads grey and colour (YCbCr or RGB) JPEGs");
  const int64_t height = d.info.output_height, width = d.info.output_width,
                channels = d.info.output_components;
  if (height * width > kMaxImagePixels)
    throw IoError(source + ": a " + std::to_string(width) + "x" + std::to_string(height) +
                  " JPEG has more than " + std::to_string(kMaxImagePixels) +
                  " pixels, the most kiln reads");
  ByteTensor image({height, width, channels});
  if (!read_pixels(d, image.data(), static_cast<size_t>(width * channels)))
    throw IoError(source + ": corrupt JPEG data: " + d.failure.message);
  return image;
}

}  // namespace kiln::io
