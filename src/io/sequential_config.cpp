#include "io/json_fields.hpp"
#include "io/model_config.hpp"
#include "kiln/layers/registry.hpp"

namespace kiln::io {

Shape input_layer_shape(const nlohmann::json& config, const std::string& where) {
  for (const char* key : {"batch_input_shape", "batch_shape"})
    if (config.is_object() && config.contains(key)) return per_sample_shape(config[key], where + " " + key);
  throw ConfigError(where + ": missing field 'batch_input_shape' (or Keras 3's 'batch_shape')");
}

nlohmann::ordered_json sequential_config(const Model& model) {
  nlohmann::ordered_json layers = nlohmann::ordered_json::array();
  nlohmann::ordered_json input = model.inputs()[0].layer()->config();
  input["name"] = model.inputs()[0].layer()->name();
  layers.push_back({{"class_name", "InputLayer"}, {"config", input}});
  for (const auto& layer : model.layers())
    layers.push_back({{"class_name", layer->class_name()}, {"config", layers::to_config(*layer)}});
  return {{"name", model.name()}, {"layers", layers}};
}

Sequential sequential_from_config(const nlohmann::json& inner, const std::string& source) {
  const auto& layers = field(inner, "layers", source + " config");
  if (!layers.is_array() || layers.empty())
    throw ConfigError(source + ": config.layers must be a non-empty array, received " + layers.dump());
  Shape input_shape;
  std::vector<LayerRef> built;
  for (size_t i = 0; i < layers.size(); ++i) {
    std::string where = source + " layer " + std::to_string(i);
    std::string cls = get_as<std::string>(layers[i], "class_name", where, "a string");
    const auto& cfg = field(layers[i], "config", where);
    if (cls == "InputLayer")
      input_shape = input_layer_shape(cfg, where);
    else
      built.push_back(layers::from_config(cls, cfg));
  }
  if (built.empty()) throw ConfigError(source + ": the model has no layers besides its input");
  Sequential model(built, get_or<std::string>(inner, "name", source, "a string", "sequential"));
  if (!model.built()) {
    if (input_shape.empty())
      throw ConfigError(source + ": no input shape (an InputLayer or the first layer's batch_input_shape)");
    model.build(input_shape);
  } else if (!input_shape.empty() && input_shape != model.input_shape()) {
    throw ConfigError(source + ": InputLayer shape " + shape_str(input_shape) +
                      " disagrees with the first layer's " + shape_str(model.input_shape()));
  }
  return model;
}

}  // namespace kiln::io
