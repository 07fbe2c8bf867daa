// CIFAR-10 and CIFAR-100: 60,000 32x32 colour images (50,000 train, 10,000 test) of 10 classes,
// or of 100 fine classes grouped into 20 coarse ones. kiln reads the datasets' binary archives
// (cifar-10-binary.tar.gz, cifar-100-binary.tar.gz) without unpacking them to disk.
#pragma once

#include <map>

#include "kiln/datasets/dataset.hpp"

namespace kiln::datasets {

namespace cifar10 {

// (train, test) as uint8 tensors: images (N, 32, 32, 3), channels last as Keras gives them, and
// labels (N) (Keras's are (N, 1)). Looks for cifar-10-binary.tar.gz in $KILN_DATASETS/cifar10,
// ~/.kiln/datasets/cifar10 and /usr/share/datasets/cifar10, then downloads it.
std::pair<Split, Split> load_data();
// The archive (with its SHA-256), where it is looked for and fetched from.
const Source& source();
// "airplane", "automobile", ... in label order.
const std::vector<std::string>& class_names();

}  // namespace cifar10

namespace cifar100 {

// As cifar10::load_data, from cifar-100-binary.tar.gz (in .../cifar100); label_mode "fine" (100
// classes) or "coarse" (20 superclasses), as Keras's cifar100.load_data.
std::pair<Split, Split> load_data(const std::string& label_mode = "fine");
const Source& source();
const std::vector<std::string>& class_names(const std::string& label_mode = "fine");

}  // namespace cifar100

// The layout of one CIFAR binary archive: the members holding the training and the test
// records, and the label bytes that precede each image (CIFAR-100 stores coarse then fine).
struct CifarLayout {
  std::vector<std::string> train_members;
  std::string test_member;
  int label_bytes = 1;
  int label_index = 0;  // which of the label bytes is the label
  int num_classes = 10;
};

// Reads a CIFAR binary archive: each member is whole records of `label_bytes` label bytes and
// 3072 image bytes (1024 red, then green, then blue, rows top to bottom). Throws IoError naming
// the archive and member on a missing member, a size that is not a whole number of records, or
// a label outside [0, num_classes).
std::pair<Split, Split> read_cifar_archive(const std::filesystem::path& archive,
                                           const CifarLayout& layout);

}  // namespace kiln::datasets
