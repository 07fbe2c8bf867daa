// An image of any format made ready for a model (io::prepare_image: decoded, cropped, resized),
// as kiln predict reads a file and kiln serve a {"b64": ...} instance; the last byte picks the
// target's size, channels, interpolation and crop so that one input reaches every path.
#include "fuzz_support.hpp"
#include "kiln/io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t pick = data[size - 1];
  const std::string input = kiln::fuzz::bytes(data, size - 1);
  // Bit 0: crop; bits 1-3: the height (the width one more); 4-5: channels; 6-7: interpolation
  // ("bicubic" and 2 channels are refused: the argument checks are part of the path).
  static const char* const kInterpolations[] = {"bilinear", "nearest", "area", "bicubic"};
  static const int64_t kChannels[] = {1, 3, 4, 2};
  const int64_t height = 1 + ((pick >> 1) & 7);
  kiln::fuzz::refused_or_read([&] { kiln::io::image_info(input, "fuzz"); });
  kiln::fuzz::refused_or_read([&] {
    kiln::io::prepare_image(input, "fuzz", height, height + 1, kChannels[(pick >> 4) & 3], kInterpolations[pick >> 6],
                            (pick & 1) != 0);
  });
  return 0;
}
