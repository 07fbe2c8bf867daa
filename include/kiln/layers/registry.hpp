// Builds layers from their Keras class name and config, as config.json stores them.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "kiln/layers/layer.hpp"

namespace kiln::layers {

// The layer config.json describes with {"class_name": class_name, "config": config}; throws
// ConfigError naming the field and what it expected.
LayerRef from_config(const std::string& class_name, const nlohmann::json& config);

// A layer's config as Keras writes it: name, trainable, dtype, then the layer's own fields.
nlohmann::ordered_json to_config(const Layer& layer);

}  // namespace kiln::layers
