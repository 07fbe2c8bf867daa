// load_weights from a Keras weights file, for tests/keras/keras_import_test.py: loads the kiln
// model folder, clones its architecture (fresh weights), reads the Keras file into the clone and
// checks that every weight equals the folder's.
// Usage: keras_weights_check MODEL_DIR WEIGHTS_FILE
#include <cstring>
#include <iostream>

#include "kiln/kiln.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: keras_weights_check MODEL_DIR WEIGHTS_FILE\n";
    return 2;
  }
  try {
    const kiln::Model model = kiln::load_model(argv[1]);
    kiln::Model clone = kiln::clone_model(model);
    clone.load_weights(argv[2]);
    const auto want = model.get_weights(), got = clone.get_weights();
    for (size_t i = 0; i < want.size(); ++i)
      if (want[i].shape() != got[i].shape() ||
          std::memcmp(want[i].data(), got[i].data(),
                      sizeof(float) * static_cast<size_t>(want[i].size())) != 0) {
        std::cout << "weight " << i << " differs\n";
        return 1;
      }
    std::cout << "all " << want.size() << " weights equal\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << e.what() << '\n';
    return 1;
  }
}
