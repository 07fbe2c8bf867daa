#include "kiln/datasets/fashion_mnist.hpp"

namespace kiln::datasets::fashion_mnist {

const Source& source() {
  static const Source s{
      "fashion-mnist",
      {
          {"train-images-idx3-ubyte.gz", "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7"},
          {"train-labels-idx1-ubyte.gz", "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056"},
          {"t10k-images-idx3-ubyte.gz", "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa"},
          {"t10k-labels-idx1-ubyte.gz", "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05"},
      },
      "/usr/share/datasets/fashion-mnist",
      "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"};
  return s;
}

std::pair<Split, Split> load_data() { return load_idx_folder(locate(source())); }

const std::vector<std::string>& class_names() {
  static const std::vector<std::string> names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                 "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return names;
}

}  // namespace kiln::datasets::fashion_mnist
