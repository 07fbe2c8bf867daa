#include <algorithm>

#include "kiln/datasets/cifar.hpp"
#include "kiln/datasets/fashion_mnist.hpp"
#include "kiln/datasets/mnist.hpp"

namespace kiln::datasets {

namespace {

// Lower case, "-" for "_", and "cifar10" for "cifar-10": the spellings users reach for.
std::string canonical(std::string name) {
  std::replace(name.begin(), name.end(), '_', '-');
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  if (name.rfind("cifar-", 0) == 0) name.erase(5, 1);
  return name;
}

}  // namespace

std::vector<std::string> names() {
  std::vector<std::string> out;
  for (const auto& info : catalogue()) out.push_back(info.name);
  return out;
}

std::vector<Info> catalogue() {
  return {
      {"fashion-mnist", "Zalando's clothing images, grey", {28, 28}, 60000, 10000, 10, fashion_mnist::source()},
      {"mnist", "handwritten digits, grey", {28, 28}, 60000, 10000, 10, mnist::source()},
      {"cifar10", "small colour photos of 10 classes", {32, 32, 3}, 50000, 10000, 10, cifar10::source()},
      {"cifar100", "small colour photos, 100 fine classes", {32, 32, 3}, 50000, 10000, 100, cifar100::source()},
      {"cifar100-coarse", "CIFAR-100 with its 20 superclasses", {32, 32, 3}, 50000, 10000, 20,
       cifar100::source()},
  };
}

Dataset load(const std::string& requested) {
  std::string name = canonical(requested);
  auto make = [&](std::pair<Split, Split> splits, const std::vector<std::string>& classes) {
    return Dataset{name, std::move(splits.first), std::move(splits.second), classes};
  };
  if (name == "fashion-mnist") return make(fashion_mnist::load_data(), fashion_mnist::class_names());
  if (name == "mnist") return make(mnist::load_data(), mnist::class_names());
  if (name == "cifar10") return make(cifar10::load_data(), cifar10::class_names());
  if (name == "cifar100") return make(cifar100::load_data("fine"), cifar100::class_names("fine"));
  if (name == "cifar100-coarse") return make(cifar100::load_data("coarse"), cifar100::class_names("coarse"));
  std::string known;
  for (const auto& n : names()) known += (known.empty() ? "" : ", ") + n;
  throw ValueError("unknown dataset '" + requested + "'; expected one of: " + known);
}

}  // namespace kiln::datasets
