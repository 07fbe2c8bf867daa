// A whole file Keras saved, as load_model reads it: a .keras zip (libarchive; config.json,
// metadata.json and model.weights.h5 read through libhdf5 from memory) or a legacy .h5 file
// (libhdf5 from the file): the architecture, then the weights matched to it.
#include "fuzz_support.hpp"
#include "kiln/io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const kiln::fuzz::MemFile file(kiln::fuzz::bytes(data, size));
  kiln::fuzz::refused_or_read([&] { kiln::load_model(file.path()); });
  return 0;
}
