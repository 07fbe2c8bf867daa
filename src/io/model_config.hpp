// The architecture part of config.json, one file per model kind: a Sequential's layer list, a
// functional model's layers with their inbound nodes (Keras 2's layout written; Keras 2's and
// Keras 3's read). model_io.cpp adds what every model has (compile settings, class names,
// preprocessing, metadata) and the weights.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "graph_walk.hpp"
#include "kiln/model.hpp"

namespace kiln::io {

// The "config" object of a Sequential: {"name", "layers": [InputLayer, layers...]}.
nlohmann::ordered_json sequential_config(const Model& model);
Sequential sequential_from_config(const nlohmann::json& inner, const std::string& source);

// The "config" object of a functional model: {"name", "layers": [... with "inbound_nodes"],
// "input_layers", "output_layers"}.
nlohmann::ordered_json functional_config(const Model& model);
Model functional_from_config(const nlohmann::json& inner, const std::string& source);

// input_layers / output_layers: [layer, node index, 0] for each tensor, numbered as `calls` are.
nlohmann::ordered_json endpoint_refs(const std::vector<SymbolicTensor>& tensors,
                                     const std::vector<detail::LayerCall>& calls);

// An InputLayer's per-sample shape: Keras 2's "batch_input_shape" or Keras 3's "batch_shape".
Shape input_layer_shape(const nlohmann::json& config, const std::string& where);

}  // namespace kiln::io
