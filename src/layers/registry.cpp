#include "kiln/layers/registry.hpp"

#include <functional>
#include <map>

#include "io/json_fields.hpp"
#include "kiln/initializers.hpp"
#include "kiln/layers/augmentation.hpp"
#include "kiln/layers/conv.hpp"
#include "kiln/layers/core.hpp"
#include "kiln/layers/merge.hpp"
#include "kiln/layers/normalization.hpp"
#include "kiln/layers/reshaping.hpp"

namespace kiln::layers {

namespace {

Shape declared_shape(const nlohmann::json& config, const std::string& where) {
  if (config.contains("batch_input_shape"))
    return io::per_sample_shape(config["batch_input_shape"], where + " batch_input_shape");
  return {};
}

// A kernel_regularizer / bias_regularizer field (absent or null: none); errors name the field.
RegularizerRef regularizer_field(const nlohmann::json& c, const char* key, const std::string& where) {
  if (!c.contains(key)) return {};
  try {
    return regularizers::get(c[key]);
  } catch (const Error& e) {
    throw ConfigError(where + ": field '" + key + "': " + e.what());
  }
}

// The fields Dense and Conv2D share: activation, use_bias, the two initializers and
// regularizers, input shape.
template <typename Options>
void read_kernel_fields(const nlohmann::json& c, const std::string& where, Options& o) {
  o.activation = io::get_or<std::string>(c, "activation", where, "a string", "linear");
  o.use_bias = io::get_or<bool>(c, "use_bias", where, "true or false", true);
  if (c.contains("kernel_initializer"))
    o.kernel_initializer = initializers::from_config(c["kernel_initializer"]);
  if (c.contains("bias_initializer"))
    o.bias_initializer = initializers::from_config(c["bias_initializer"]);
  o.kernel_regularizer = regularizer_field(c, "kernel_regularizer", where);
  o.bias_regularizer = regularizer_field(c, "bias_regularizer", where);
  o.input_shape = declared_shape(c, where);
}

LayerRef dense(const nlohmann::json& c, const std::string& where) {
  DenseOptions o;
  o.units = io::get_as<int64_t>(c, "units", where, "a positive integer");
  read_kernel_fields(c, where, o);
  return Dense(o);
}

// Keras's int-or-pair sizes: 3 or [3, 3]; absent or null reads as `fallback`.
Size2 size2(const nlohmann::json& c, const char* key, const std::string& where, Size2 fallback) {
  if (!c.contains(key) || c[key].is_null()) return fallback;
  const auto& v = c[key];
  auto is_int = [](const nlohmann::json& x) { return x.is_number_integer(); };
  if (is_int(v)) return v.get<int64_t>();
  if (v.is_array() && v.size() == 2 && is_int(v[0]) && is_int(v[1])) return {v[0].get<int64_t>(), v[1].get<int64_t>()};
  throw ConfigError(where + ": field '" + key + "' must be an integer or a list of two integers, received " + v.dump());
}

void check_channels_last(const nlohmann::json& c, const std::string& where) {
  std::string format = io::get_or<std::string>(c, "data_format", where, "a string", "channels_last");
  if (format != "channels_last")
    throw ConfigError(where + ": kiln supports data_format \"channels_last\" only, received \"" + format + "\"");
}

LayerRef conv2d(const nlohmann::json& c, const std::string& where) {
  check_channels_last(c, where);
  if (io::get_or<int64_t>(c, "groups", where, "an integer", 1) != 1)
    throw ConfigError(where + ": kiln supports groups=1 only, received " + c["groups"].dump());
  Conv2DOptions o;
  o.filters = io::get_as<int64_t>(c, "filters", where, "a positive integer");
  if (!c.contains("kernel_size")) throw ConfigError(where + ": missing field 'kernel_size'");
  o.kernel_size = size2(c, "kernel_size", where, 1);
  o.strides = size2(c, "strides", where, 1);
  o.padding = io::get_or<std::string>(c, "padding", where, "a string", "valid");
  o.dilation_rate = size2(c, "dilation_rate", where, 1);
  read_kernel_fields(c, where, o);
  return Conv2D(o);
}

template <typename Pool>
LayerRef pooling2d(const nlohmann::json& c, const std::string& where) {
  check_channels_last(c, where);
  Pooling2DOptions o;
  o.pool_size = size2(c, "pool_size", where, 2);
  o.strides = size2(c, "strides", where, 0);
  o.padding = io::get_or<std::string>(c, "padding", where, "a string", "valid");
  o.input_shape = declared_shape(c, where);
  return Pool(o);
}

template <typename Pool>
LayerRef global_pooling2d(const nlohmann::json& c, const std::string& where) {
  check_channels_last(c, where);
  if (io::get_or<bool>(c, "keepdims", where, "true or false", false))
    throw ConfigError(where + ": kiln supports keepdims=false only");
  return Pool();
}

LayerRef batch_normalization(const nlohmann::json& c, const std::string& where) {
  BatchNormalizationOptions o;
  const auto& axis = c.contains("axis") ? c["axis"] : nlohmann::json(-1);
  if (axis.is_array() && axis.size() == 1) o.axis = axis[0].is_number_integer() ? axis[0].get<int>() : 0;
  else if (axis.is_number_integer()) o.axis = axis.get<int>();
  else throw ConfigError(where + ": field 'axis' must be an integer, received " + axis.dump());
  o.momentum = io::get_or<double>(c, "momentum", where, "a number", 0.99);
  o.epsilon = io::get_or<double>(c, "epsilon", where, "a number", 1e-3);
  o.center = io::get_or<bool>(c, "center", where, "true or false", true);
  o.scale = io::get_or<bool>(c, "scale", where, "true or false", true);
  auto init = [&](const char* key, std::string& name) {
    if (c.contains(key)) name = initializers::from_config(c[key]);
  };
  init("beta_initializer", o.beta_initializer);
  init("gamma_initializer", o.gamma_initializer);
  init("moving_mean_initializer", o.moving_mean_initializer);
  init("moving_variance_initializer", o.moving_variance_initializer);
  return BatchNormalization(o);
}

LayerRef relu(const nlohmann::json& c, const std::string& where) {
  ReLUOptions o;
  if (c.contains("max_value") && !c["max_value"].is_null())
    o.max_value = io::get_as<double>(c, "max_value", where, "a number or null");
  o.negative_slope = io::get_or<double>(c, "negative_slope", where, "a number", 0.0);
  o.threshold = io::get_or<double>(c, "threshold", where, "a number", 0.0);
  return ReLU(o);
}

LayerRef reshape(const nlohmann::json& c, const std::string& where) {
  const auto& v = io::field(c, "target_shape", where);
  Shape target;
  if (!v.is_array()) throw ConfigError(where + ": field 'target_shape' must be a list of integers, received " + v.dump());
  for (const auto& d : v) {
    if (!d.is_number_integer())
      throw ConfigError(where + ": field 'target_shape' must be a list of integers, received " + v.dump());
    target.push_back(d.get<int64_t>());
  }
  return Reshape(target);
}

LayerRef zero_padding2d(const nlohmann::json& c, const std::string& where) {
  check_channels_last(c, where);
  const auto& v = c.contains("padding") ? c["padding"] : nlohmann::json(1);
  auto bad = [&] {
    return ConfigError(where + ": field 'padding' must be an integer, two integers or two pairs of integers, received " +
                       v.dump());
  };
  auto pair = [&](const nlohmann::json& p) -> std::pair<int64_t, int64_t> {
    if (p.is_number_integer()) return {p.get<int64_t>(), p.get<int64_t>()};
    if (p.is_array() && p.size() == 2 && p[0].is_number_integer() && p[1].is_number_integer())
      return {p[0].get<int64_t>(), p[1].get<int64_t>()};
    throw bad();
  };
  if (v.is_number_integer()) return ZeroPadding2D(v.get<int64_t>());
  if (!v.is_array() || v.size() != 2) throw bad();
  auto [top, bottom] = pair(v[0]);
  auto [left, right] = pair(v[1]);
  return ZeroPadding2D(Padding2D(top, bottom, left, right));
}

// A Keras factor: 0.1 (the range [-0.1, 0.1]) or [lower, upper].
FactorRange factor(const nlohmann::json& c, const char* key, const std::string& where) {
  const auto& v = io::field(c, key, where);
  if (v.is_number()) return v.get<double>();
  if (v.is_array() && v.size() == 2 && v[0].is_number() && v[1].is_number())
    return {v[0].get<double>(), v[1].get<double>()};
  throw ConfigError(where + ": field '" + key + "' must be a number or a list [lower, upper], received " + v.dump());
}

struct FillFields {
  std::string fill_mode, interpolation;
  double fill_value;
};

FillFields fill_fields(const nlohmann::json& c, const std::string& where) {
  return {io::get_or<std::string>(c, "fill_mode", where, "a string", "reflect"),
          io::get_or<std::string>(c, "interpolation", where, "a string", "bilinear"),
          io::get_or<double>(c, "fill_value", where, "a number", 0.0)};
}

LayerRef random_translation(const nlohmann::json& c, const std::string& where) {
  FillFields f = fill_fields(c, where);
  return RandomTranslation({.height_factor = factor(c, "height_factor", where),
                            .width_factor = factor(c, "width_factor", where), .fill_mode = f.fill_mode,
                            .interpolation = f.interpolation, .fill_value = f.fill_value,
                            .input_shape = declared_shape(c, where)});
}

LayerRef random_rotation(const nlohmann::json& c, const std::string& where) {
  FillFields f = fill_fields(c, where);
  return RandomRotation({.factor = factor(c, "factor", where), .fill_mode = f.fill_mode,
                         .interpolation = f.interpolation, .fill_value = f.fill_value,
                         .input_shape = declared_shape(c, where)});
}

LayerRef random_zoom(const nlohmann::json& c, const std::string& where) {
  FillFields f = fill_fields(c, where);
  RandomZoomOptions o{.height_factor = factor(c, "height_factor", where), .fill_mode = f.fill_mode,
                      .interpolation = f.interpolation, .fill_value = f.fill_value,
                      .input_shape = declared_shape(c, where)};
  if (c.contains("width_factor") && !c["width_factor"].is_null()) o.width_factor = factor(c, "width_factor", where);
  return RandomZoom(o);
}

double rate(const nlohmann::json& c, const std::string& where) { return io::get_as<double>(c, "rate", where, "a number"); }

using Factory = std::function<LayerRef(const nlohmann::json&, const std::string&)>;

const std::map<std::string, Factory>& factories() {
  static const std::map<std::string, Factory> table = {
      {"Dense", dense},
      {"Conv2D", conv2d},
      {"MaxPooling2D", pooling2d<MaxPooling2D>},
      {"AveragePooling2D", pooling2d<AveragePooling2D>},
      {"GlobalAveragePooling2D", global_pooling2d<GlobalAveragePooling2D>},
      {"GlobalMaxPooling2D", global_pooling2d<GlobalMaxPooling2D>},
      {"BatchNormalization", batch_normalization},
      {"Dropout", [](const nlohmann::json& c, const std::string& w) { return Dropout(rate(c, w)); }},
      {"SpatialDropout2D", [](const nlohmann::json& c, const std::string& w) { return SpatialDropout2D(rate(c, w)); }},
      {"Activation",
       [](const nlohmann::json& c, const std::string& w) {
         return Activation(io::get_as<std::string>(c, "activation", w, "a string"));
       }},
      {"ReLU", relu},
      {"RandomFlip",
       [](const nlohmann::json& c, const std::string& w) {
         return RandomFlip(io::get_or<std::string>(c, "mode", w, "a string", "horizontal_and_vertical"),
                           declared_shape(c, w));
       }},
      {"RandomTranslation", random_translation},
      {"RandomRotation", random_rotation},
      {"RandomZoom", random_zoom},
      {"RandomCrop",
       [](const nlohmann::json& c, const std::string& w) {
         return RandomCrop(io::get_as<int64_t>(c, "height", w, "a positive integer"),
                           io::get_as<int64_t>(c, "width", w, "a positive integer"), declared_shape(c, w));
       }},
      {"Reshape", reshape},
      {"ZeroPadding2D", zero_padding2d},
      {"Rescaling",
       [](const nlohmann::json& c, const std::string& w) {
         return Rescaling(io::get_as<double>(c, "scale", w, "a number"), io::get_or<double>(c, "offset", w, "a number", 0.0));
       }},
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
