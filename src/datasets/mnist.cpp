#include "kiln/datasets/mnist.hpp"

namespace kiln::datasets::mnist {

const Source& source() {
  static const Source s{
      "mnist",
      {
          {"train-images-idx3-ubyte.gz", "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"},
          {"train-labels-idx1-ubyte.gz", "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"},
          {"t10k-images-idx3-ubyte.gz", "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"},
          {"t10k-labels-idx1-ubyte.gz", "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"},
      },
      "/usr/share/datasets/mnist",
      "https://ossci-datasets.s3.amazonaws.com/mnist/"};
  return s;
}

std::pair<Split, Split> load_data() { return load_idx_folder(locate(source())); }

const std::vector<std::string>& class_names() {
  static const std::vector<std::string> names = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
  return names;
}

}  // namespace kiln::datasets::mnist
