// An outside program built against an installed kiln (install_test.sh builds it with CMake's
// find_package and with pkg-config): loads a saved model, predicts the first test images and
// evaluates it on Fashion-MNIST's test set.
#include <iostream>
#include <kiln/build_info.hpp>
#include <kiln/kiln.hpp>
#include <kiln/serving.hpp>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " MODEL_DIR\n";
    return 2;
  }
  try {
    kiln::Model model = kiln::load_model(argv[1]);
    auto [train, test] = kiln::datasets::fashion_mnist::load_data();
    kiln::Tensor x = test.images.astype<float>() / 255.0f;
    std::cout << "kiln " << kiln::kVersion << " (" << kiln::serving::libraries().size()
              << " serving libraries)\n";
    std::cout << "classes:";
    for (int32_t c : kiln::argmax_rows(model.predict(x.slice(0, 5)))) std::cout << ' ' << c;
    const kiln::Logs logs = model.evaluate(x, test.labels, {.verbose = 0});
    std::printf("\naccuracy: %.4f\n", logs.at("accuracy"));
  } catch (const std::exception& e) {
    std::cerr << "app: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
