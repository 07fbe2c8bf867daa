#include "common.hpp"

#include <algorithm>
#include <iostream>

namespace kiln::cli {

std::string dataset_for(const Model& model, const std::string& requested) {
  if (!requested.empty()) return requested;
  auto it = model.metadata.find("dataset");
  return it != model.metadata.end() ? it->second : "fashion-mnist";
}

const datasets::Split& split_of(const datasets::Dataset& data, const std::string& split) {
  if (split == "train") return data.train;
  if (split == "test") return data.test;
  throw ValueError("unknown split '" + split + "'; expected train or test");
}

bool uses_bf16(const Model& model) {
  return std::any_of(model.layers().begin(), model.layers().end(),
                     [](const LayerRef& l) { return l->mixed_bfloat16(); });
}

void warn_if_bf16_is_emulated(const Model& model) {
  if (uses_bf16(model) && !mixed_precision::has_native_bfloat16())
    std::cerr << "kiln: warning: this CPU has no AVX512_BF16: bf16 products are computed as float32 "
                 "FMAs on the rounded operands (the same results, but slower than float32)\n";
}

}  // namespace kiln::cli
