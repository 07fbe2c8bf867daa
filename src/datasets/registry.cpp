#include <algorithm>

#include "kiln/datasets/fashion_mnist.hpp"
#include "kiln/datasets/mnist.hpp"

namespace kiln::datasets {

namespace {

std::string canonical(std::string name) {
  std::replace(name.begin(), name.end(), '_', '-');
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  return name;
}

}  // namespace

std::vector<std::string> names() { return {"fashion-mnist", "mnist"}; }

Dataset load(const std::string& requested) {
  std::string name = canonical(requested);
  if (name == "fashion-mnist") {
    auto [train, test] = fashion_mnist::load_data();
    return {name, std::move(train), std::move(test), fashion_mnist::class_names()};
  }
  if (name == "mnist") {
    auto [train, test] = mnist::load_data();
    return {name, std::move(train), std::move(test), mnist::class_names()};
  }
  throw ValueError("unknown dataset '" + requested + "'; expected one of: fashion-mnist, mnist");
}

}  // namespace kiln::datasets
