#include "common.hpp"

namespace kiln::cli {

std::string dataset_for(const Sequential& model, const std::string& requested) {
  if (!requested.empty()) return requested;
  auto it = model.metadata.find("dataset");
  return it != model.metadata.end() ? it->second : "fashion-mnist";
}

const datasets::Split& split_of(const datasets::Dataset& data, const std::string& split) {
  if (split == "train") return data.train;
  if (split == "test") return data.test;
  throw ValueError("unknown split '" + split + "'; expected train or test");
}

}  // namespace kiln::cli
