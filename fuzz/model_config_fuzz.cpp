// A saved model's config.json (Sequential or functional, Keras 2's or 3's layout, with its
// compile settings and preprocessing), read by load_model; the folder has no weights, so a
// config that builds ends in the IoError for the missing model.safetensors.
#include <fstream>

#include "fuzz_support.hpp"
#include "kiln/io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const kiln::fuzz::ScratchDir dir;
  std::ofstream(dir.path() / "config.json", std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  kiln::fuzz::refused_or_read([&] { kiln::load_model(dir.path()); });
  return 0;
}
