// IDX files, plain or gzip-compressed (datasets::read_idx).
#include "fuzz_support.hpp"
#include "kiln/datasets/dataset.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const kiln::fuzz::MemFile file(kiln::fuzz::bytes(data, size));
  kiln::fuzz::refused_or_read([&] { kiln::datasets::read_idx(file.path()); });
  return 0;
}
