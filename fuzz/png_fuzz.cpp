// PNG files: the grey reader of kiln's own image files and the general decoder.
#include "fuzz_support.hpp"
#include "kiln/io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input = kiln::fuzz::bytes(data, size);
  kiln::fuzz::refused_or_read([&] { kiln::io::parse_png_gray(input, "fuzz.png"); });
  kiln::fuzz::refused_or_read([&] { kiln::io::decode_image(input, "fuzz.png", 4); });
  return 0;
}
