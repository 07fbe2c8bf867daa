// Fashion-MNIST: 70,000 28x28 grey images of 10 kinds of clothing (60,000 train, 10,000 test).
#pragma once

#include "kiln/datasets/dataset.hpp"

namespace kiln::datasets::fashion_mnist {

// (train, test) as uint8 tensors: images (N, 28, 28), labels (N). Looks in $KILN_DATASETS,
// ~/.kiln/datasets and /usr/share/datasets (Debian's dataset-fashion-mnist), then downloads.
std::pair<Split, Split> load_data();
// Its four IDX files (with their SHA-256 digests), where they are looked for and fetched from.
const Source& source();
// "T-shirt/top", "Trouser", ... in label order.
const std::vector<std::string>& class_names();

}  // namespace kiln::datasets::fashion_mnist
