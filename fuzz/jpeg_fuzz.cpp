// JPEG files (io::decode_jpeg), then as the general decoder converts them to grey.
#include "fuzz_support.hpp"
#include "kiln/io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input = kiln::fuzz::bytes(data, size);
  kiln::fuzz::refused_or_read([&] { kiln::io::decode_jpeg(input, "fuzz.jpeg"); });
  kiln::fuzz::refused_or_read([&] { kiln::io::decode_image(input, "fuzz.jpeg", 1); });
  return 0;
}
