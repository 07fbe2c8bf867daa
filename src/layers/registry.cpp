#include "kiln/layers/registry.hpp"

#include "io/json_fields.hpp"
#include "kiln/initializers.hpp"
#include "kiln/layers/core.hpp"

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

LayerRef flatten(const nlohmann::json& c, const std::string& where) {
  return Flatten(FlattenOptions{declared_shape(c, where)});
}

}  // namespace

LayerRef from_config(const std::string& class_name, const nlohmann::json& config) {
  std::string where = "layer " + class_name;
  if (config.is_object() && config.contains("name") && config["name"].is_string())
    where += " '" + config["name"].get<std::string>() + "'";
  try {
    LayerRef layer = class_name == "Dense"     ? dense(config, where)
                     : class_name == "Flatten" ? flatten(config, where)
                                               : throw ConfigError("unknown layer class '" + class_name +
                                                                   "'; kiln knows Dense, Flatten");
    if (config.contains("name")) layer->set_name(io::get_as<std::string>(config, "name", where, "a string"));
    if (config.contains("dtype") && !config["dtype"].is_null())
      layer->set_dtype_policy(io::dtype_policy_name(config["dtype"], where));
    return layer;
  } catch (const ValueError& e) {
    throw ConfigError(where + ": " + e.what());
  }
}

}  // namespace kiln::layers
