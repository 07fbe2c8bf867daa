// A model's weights by their names in files ("<layer>/<weight>"), for Model::save, load_model
// and save_weights / load_weights.
#pragma once

#include <map>
#include <string>

#include "kiln/model.hpp"

namespace kiln::io {

// Views of every weight, by name.
std::map<std::string, Tensor> named_weights(const Model& model);
// Copies `tensors` into the model's weights by name; `source` names the file in errors. Every
// weight must be there with its shape; names under "optimizer/" are ignored, any other unknown
// name is an IoError.
void assign_named_weights(Model& model, const std::map<std::string, Tensor>& tensors,
                          const std::string& source);

}  // namespace kiln::io
