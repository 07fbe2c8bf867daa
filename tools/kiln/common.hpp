// Helpers the subcommands share: which dataset and split a command works on.
#pragma once

#include <kiln/kiln.hpp>
#include <string>

namespace kiln::cli {

// The dataset a saved model was trained on (metadata "dataset"), unless `requested` names one.
std::string dataset_for(const Model& model, const std::string& requested);

// One split ("train" or "test") of a dataset; throws ValueError on other names.
const datasets::Split& split_of(const datasets::Dataset& data, const std::string& split);

// Whether any layer computes in mixed_bfloat16.
bool uses_bf16(const Model& model);
// If one does and the CPU has no AVX512_BF16, warns on stderr that its products are emulated
// (the same results, slower than float32).
void warn_if_bf16_is_emulated(const Model& model);

}  // namespace kiln::cli
