#include "kiln/layers/registry.hpp"

#include <functional>
#include <map>

#include "io/json_fields.hpp"
#include "kiln/initializers.hpp"
#include "kiln/layers/core.hpp"
#include "kiln/layers/merge.hpp"

namespace kiln::layers {

namespace {

Shape declared_shape(const nlohmann::json& config, const std::string& where) {
  if (config.contains("batch_input_shape"))
    return io::per_sample_shape(config["batch_input_shape"], where + " batch_input_shape");
  return {};
}

LayerRef dense(const nlohmann::json& c, const std::string& where) {
  DenseOptions o;
  o.units = io::get_as<int64_t>(c, "units", where, "a positive integer");
  o.activation = io::get_or<std::string>(c, "activation", where, "a string", "linear");
  o.use_bias = io::get_or<bool>(c, "use_bias", where, "true or false", true);
  if (c.contains("kernel_initializer"))
    o.kernel_initializer = initializers::from_config(c["kernel_initializer"]);
  if (c.contains("bias_initializer"))
    o.bias_initializer = initializers::from_config(c["bias_initializer"]);
  o.input_shape = declared_shape(c, where);
  return Dense(o);
}

using Factory = std::function<LayerRef(const nlohmann::json&, const std::string&)>;

const std::map<std::string, Factory>& factories() {
  static const std::map<std::string, Factory> table = {
      {"Dense", dense},
      {"Flatten", [](const nlohmann::json& c, const std::string& w) { return Flatten(FlattenOptions{declared_shape(c, w)}); }},
      {"Add", [](const nlohmann::json&, const std::string&) { return Add(); }},
      {"Subtract", [](const nlohmann::json&, const std::string&) { return Subtract(); }},
      {"Multiply", [](const nlohmann::json&, const std::string&) { return Multiply(); }},
      {"Average", [](const nlohmann::json&, const std::string&) { return Average(); }},
      {"Maximum", [](const nlohmann::json&, const std::string&) { return Maximum(); }},
      {"Minimum", [](const nlohmann::json&, const std::string&) { return Minimum(); }},
      {"Concatenate",
       [](const nlohmann::json& c, const std::string& w) {
         return Concatenate(io::get_or<int>(c, "axis", w, "an integer", -1));
       }},
  };
  return table;
}

}  // namespace

LayerRef from_config(const std::string& class_name, const nlohmann::json& config) {
  std::string where = "layer " + class_name;
  if (config.is_object() && config.contains("name") && config["name"].is_string())
    where += " '" + config["name"].get<std::string>() + "'";
  try {
    if (!config.is_object()) throw ConfigError(where + ": config must be an object, received " + config.dump());
    auto it = factories().find(class_name);
    if (it == factories().end()) {
      std::string known;
      for (const auto& [name, make] : factories()) known += (known.empty() ? "" : ", ") + name;
      throw ConfigError("unknown layer class '" + class_name + "'; kiln knows " + known);
    }
    LayerRef layer = it->second(config, where);
    if (config.contains("name")) layer->set_name(io::get_as<std::string>(config, "name", where, "a string"));
    layer->trainable = io::get_or<bool>(config, "trainable", where, "true or false", true);
    if (config.contains("dtype") && !config["dtype"].is_null())
      layer->set_dtype_policy(io::dtype_policy_name(config["dtype"], where));
    return layer;
  } catch (const ValueError& e) {
    throw ConfigError(where + ": " + e.what());
  }
}

nlohmann::ordered_json to_config(const Layer& layer) {
  nlohmann::ordered_json cfg = {{"name", layer.name()},
                                {"trainable", layer.trainable},
                                {"dtype", io::dtype_policy_config(layer.dtype_policy())}};
  const nlohmann::json own = layer.config();
  for (const auto& [k, v] : own.items()) cfg[k] = v;
  return cfg;
}

}  // namespace kiln::layers
