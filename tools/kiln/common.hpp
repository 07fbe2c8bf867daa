// Helpers the subcommands share: which dataset and split a command works on.
#pragma once

#include <kiln/kiln.hpp>
#include <string>

namespace kiln::cli {

// The dataset a saved model was trained on (metadata "dataset"), unless `requested` names one.
std::string dataset_for(const Sequential& model, const std::string& requested);

// One split ("train" or "test") of a dataset; throws ValueError on other names.
const datasets::Split& split_of(const datasets::Dataset& data, const std::string& split);

}  // namespace kiln::cli
