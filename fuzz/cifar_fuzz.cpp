// CIFAR binary archives (.tar.gz and the other formats libarchive reads), read in CIFAR-10's
// layout (one training member here) and in CIFAR-100's (two label bytes).
#include "fuzz_support.hpp"
#include "kiln/datasets/cifar.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kiln::datasets;
  static const CifarLayout kLayouts[] = {
      {.train_members = {"cifar-10-batches-bin/data_batch_1.bin"}, .test_member = "cifar-10-batches-bin/test_batch.bin"},
      {.train_members = {"cifar-100-binary/train.bin"},
       .test_member = "cifar-100-binary/test.bin",
       .label_bytes = 2,
       .label_index = 1,
       .num_classes = 100}};
  const kiln::fuzz::MemFile file(kiln::fuzz::bytes(data, size));
  for (const auto& layout : kLayouts) kiln::fuzz::refused_or_read([&] { read_cifar_archive(file.path(), layout); });
  return 0;
}
