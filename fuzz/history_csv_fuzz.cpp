// A run's history.csv, as CSVLogger writes it and BackupAndRestore reads it back.
#include "fuzz_support.hpp"
#include "kiln/callbacks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const kiln::fuzz::MemFile file(kiln::fuzz::bytes(data, size));
  kiln::fuzz::refused_or_read([&] { kiln::read_history_csv(file.path()); });
  return 0;
}
