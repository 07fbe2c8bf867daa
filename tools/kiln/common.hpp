// Helpers the subcommands share: dataset splits as model inputs, and JSON output.
#pragma once

#include <kiln/kiln.hpp>
#include <string>

namespace kiln::cli {

// Images (N, H, W) as float inputs, each pixel times `rescale`.
Tensor to_inputs(const ByteTensor& images, double rescale);

// The dataset a saved model was trained on (metadata "dataset"), unless `requested` names one.
std::string dataset_for(const Sequential& model, const std::string& requested);

// One split ("train" or "test") of a dataset; throws ValueError on other names.
const datasets::Split& split_of(const datasets::Dataset& data, const std::string& split);

}  // namespace kiln::cli
