// BMP files (io::decode_bmp), then as the general decoder converts them to grey.
#include "fuzz_support.hpp"
#include "kiln/io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input = kiln::fuzz::bytes(data, size);
  kiln::fuzz::refused_or_read([&] { kiln::io::decode_bmp(input, "fuzz.bmp"); });
  kiln::fuzz::refused_or_read([&] { kiln::io::decode_image(input, "fuzz.bmp", 1); });
  return 0;
}
