// A pipeline's cache file (Dataset::cache(FILE)) left by an earlier run: two passes over the
// cached samples, the first reading the file (or making it again when it holds other data).
#include <fstream>

#include "fixtures.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kiln;
  static const fuzz::ScratchDir dir;
  const auto file = dir.path() / "samples.cache";
  std::filesystem::remove(file.string() + ".partial");
  std::ofstream(file, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  fuzz::refused_or_read([&] {
    const auto dataset = fuzz::cached_samples(file).batch(2);
    for (int epoch = 0; epoch < 2; ++epoch) {
      auto it = dataset.iterate(epoch);
      data::Batch batch;
      while (it.next(batch)) {
      }
    }
  });
  return 0;
}
