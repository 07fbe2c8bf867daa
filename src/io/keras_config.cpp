// A Keras model config, of any generation kiln reads, turned into kiln's config.json
// architecture, and Keras's compile settings into kiln's. What kiln cannot run is collected over
// the whole model first, so one error lists every unsupported item.
#include <map>
#include <set>

#include "io/json_fields.hpp"
#include "io/keras.hpp"
#include "kiln/initializers.hpp"
#include "kiln/layers/registry.hpp"
#include "kiln/losses.hpp"
#include "kiln/optimizers.hpp"

namespace kiln::io {

namespace {

using Json = nlohmann::json;

// Keras 3 writes every object as {"module", "class_name", "config", "registered_name"}; Keras 2
// as {"class_name", "config"}. The module and a built-in's registered name say nothing kiln uses.
Json unwrap(const Json& v) {
  if (v.is_array()) {
    Json out = Json::array();
    for (const auto& item : v) out.push_back(unwrap(item));
    return out;
  }
  if (!v.is_object()) return v;
  Json out = Json::object();
  for (const auto& [k, item] : v.items()) {
    if (v.contains("class_name") && (k == "module" || (k == "registered_name" && item.is_null())))
      continue;
    out[k] = unwrap(item);
  }
  return out;
}

// Fields every layer may carry that change nothing kiln computes, or that kiln reads itself.
const std::set<std::string> kCommon = {"name",       "trainable", "dtype",    "seed",
                                       "sparse",     "ragged",    "autocast", "batch_input_shape",
                                       "batch_shape"};

const std::set<std::string> kKernel = {"activation",         "use_bias",
                                       "kernel_initializer", "bias_initializer",
                                       "kernel_regularizer", "bias_regularizer"};

std::set<std::string> with_kernel(std::set<std::string> own) {
  own.insert(kKernel.begin(), kKernel.end());
  return own;
}

// The fields kiln reads, by layer class.
const std::map<std::string, std::set<std::string>>& read_fields() {
  static const std::set<std::string> fill = {"fill_mode", "interpolation", "fill_value"};
  auto plus_fill = [&](std::set<std::string> own) {
    own.insert(fill.begin(), fill.end());
    return own;
  };
  static const std::map<std::string, std::set<std::string>> table = {
      {"Dense", with_kernel({"units"})},
      {"Conv2D",
       with_kernel({"filters", "kernel_size", "strides", "padding", "dilation_rate", "groups"})},
      {"MaxPooling2D", {"pool_size", "strides", "padding"}},
      {"AveragePooling2D", {"pool_size", "strides", "padding"}},
      {"GlobalAveragePooling2D", {"keepdims"}},
      {"GlobalMaxPooling2D", {"keepdims"}},
      {"BatchNormalization",
       {"axis", "momentum", "epsilon", "center", "scale", "beta_initializer", "gamma_initializer",
        "moving_mean_initializer", "moving_variance_initializer"}},
      {"Dropout", {"rate"}},
      {"SpatialDropout2D", {"rate"}},
      {"Activation", {"activation"}},
      {"ReLU", {"max_value", "negative_slope", "threshold"}},
      {"RandomFlip", {"mode"}},
      {"RandomTranslation", plus_fill({"height_factor", "width_factor"})},
      {"RandomRotation", plus_fill({"factor"})},
      {"RandomZoom", plus_fill({"height_factor", "width_factor"})},
      {"RandomCrop", {"height", "width"}},
      {"Reshape", {"target_shape"}},
      {"ZeroPadding2D", {"padding"}},
      {"Rescaling", {"scale", "offset"}},
      {"Flatten", {}},
      {"Add", {}},
      {"Subtract", {}},
      {"Multiply", {}},
      {"Average", {}},
      {"Maximum", {}},
      {"Minimum", {}},
      {"Concatenate", {"axis"}},
  };
  return table;
}

// Fields whose values, whatever they are, change nothing kiln computes at inference or when
// fine-tuning: batch normalization's fused kernel choice and renormalization's settings (renorm
// itself must be false).
const std::set<std::string> kHarmless = {"fused", "renorm_momentum", "renorm_clipping"};

// Keras's older names for a class.
std::string canonical_class(const std::string& cls) {
  static const std::map<std::string, std::string> aliases = {
      {"Convolution2D", "Conv2D"},
      {"MaxPool2D", "MaxPooling2D"},
      {"AvgPool2D", "AveragePooling2D"},
      {"GlobalAvgPool2D", "GlobalAveragePooling2D"},
      {"GlobalMaxPool2D", "GlobalMaxPooling2D"}};
  auto it = aliases.find(cls);
  return it == aliases.end() ? cls : it->second;
}

bool is_empty_value(const Json& v) {
  return v.is_null() || (v.is_boolean() && !v.get<bool>()) ||
         ((v.is_array() || v.is_object()) && v.empty());
}

constexpr const char* kActivations = "linear, relu, sigmoid, tanh, softmax";

struct Problems {
  std::vector<std::string> items;
  void add(const std::string& layer, const std::string& cls, const std::string& what) {
    items.push_back("layer '" + layer + "' (" + cls + "): " + what);
  }
};

// The activation field: one of kiln's by name.
void check_activation(const Json& v, const std::string& name, const std::string& cls,
                      Problems& problems) {
  if (!v.is_string()) {
    problems.add(name, cls, "activation " + shown(v) + " is not one of Keras's named activations");
    return;
  }
  const std::string a = v.get<std::string>();
  static const std::set<std::string> known = {"linear", "relu", "sigmoid", "tanh", "softmax"};
  if (!known.count(a)) problems.add(name, cls, "activation '" + a + "'");
}

// A layer's config made kiln's; problems found are added, and the config may then be partial.
Json layer_config(const std::string& cls, const std::string& name, const Json& keras_cfg,
                  Problems& problems) {
  Json cfg = keras_cfg;
  const auto& table = read_fields();
  auto known = table.find(cls);
  if (known == table.end()) {
    problems.add(name, cls,
                 cls == "Sequential" || cls == "Functional" || cls == "Model"
                     ? "a model used as a layer (kiln loads models made of layers)"
                     : "kiln has no such layer");
    return cfg;
  }
  const size_t before = problems.items.size();
  std::vector<std::string> drop;
  for (const auto& [key, v] : cfg.items()) {
    if (kCommon.count(key)) continue;
    if (key == "activation") check_activation(v, name, cls, problems);
    if (key.ends_with("_initializer")) {
      try {
        initializers::from_config(v);
      } catch (const Error&) {
        drop.push_back(key);  // the file's weights replace what it would make
      }
      continue;
    }
    if (known->second.count(key)) continue;
    if (key == "data_format") {
      if (!v.is_null() && v != "channels_last")
        problems.add(name, cls, "data_format " + shown(v) + " (kiln runs channels_last only)");
      drop.push_back(key);
    } else if (kHarmless.count(key) || is_empty_value(v)) {
      drop.push_back(key);
    } else {
      problems.add(name, cls, "option '" + key + "' = " + shown(v) + " (kiln has no such option)");
    }
  }
  for (const auto& key : drop) cfg.erase(key);
  if (problems.items.size() == before) {
    try {
      layers::from_config(cls, cfg);
    } catch (const Error& e) {
      problems.add(name, cls, e.what());
    }
  }
  return cfg;
}

std::string entry_name(const Json& entry, const Json& cfg, size_t index) {
  if (entry.contains("name") && entry["name"].is_string()) return entry["name"].get<std::string>();
  if (cfg.is_object() && cfg.contains("name") && cfg["name"].is_string())
    return cfg["name"].get<std::string>();
  return "#" + std::to_string(index);
}

// One layer entry of either model kind; InputLayer entries pass through.
Json translate_entry(const Json& entry, size_t index, const std::string& source,
                     Problems& problems) {
  const std::string where = source + " layer " + std::to_string(index);
  const std::string cls =
      canonical_class(get_as<std::string>(entry, "class_name", where, "a string"));
  if (entry.contains("registered_name") && entry["registered_name"].is_string() &&
      entry["registered_name"] != entry["class_name"]) {
    problems.add(
        entry_name(entry, entry.value("config", Json()), index), cls,
        "a custom layer registered as '" + entry["registered_name"].get<std::string>() + "'");
    return entry;
  }
  const Json& cfg = field(entry, "config", where);
  if (!cfg.is_object())
    throw ConfigError(where + ": field 'config' must be an object, received " + shown(cfg));
  Json out = {{"class_name", cls}};
  if (entry.contains("name")) out["name"] = entry["name"];
  if (entry.contains("inbound_nodes")) out["inbound_nodes"] = entry["inbound_nodes"];
  out["config"] =
      cls == "InputLayer" ? cfg : layer_config(cls, entry_name(entry, cfg, index), cfg, problems);
  return out;
}

// Sequential: Keras 2.1 and older wrote the layer list itself as the config. Without an
// InputLayer, the input shape is the first layer's batch_input_shape (Keras 2) or the model's
// build_input_shape / build_config (Keras 3).
Json sequential(const Json& keras, const Json& inner, const std::string& source,
                Problems& problems) {
  Json config = inner.is_array() ? Json{{"layers", inner}} : inner;
  const Json& layers = field(config, "layers", source + " config");
  if (!layers.is_array() || layers.empty())
    throw ConfigError(source + ": config.layers must be a non-empty list, received " +
                      shown(layers));
  Json out_layers = Json::array();
  for (size_t i = 0; i < layers.size(); ++i)
    out_layers.push_back(translate_entry(layers[i], i, source, problems));
  if (out_layers[0]["class_name"] != "InputLayer") {
    Json& first = out_layers[0]["config"];
    Json shape;
    for (const char* key : {"batch_input_shape", "batch_shape"})
      if (first.is_object() && first.contains(key)) shape = first[key];
    if (shape.is_null() && config.contains("build_input_shape"))
      shape = config["build_input_shape"];
    if (shape.is_null() && keras.contains("build_config") && keras["build_config"].is_object())
      shape = keras["build_config"].value("input_shape", Json());
    if (!shape.is_null()) {
      if (first.is_object()) first.erase("batch_shape");
      if (first.is_object()) first.erase("batch_input_shape");
      out_layers.insert(out_layers.begin(),
                        Json{{"class_name", "InputLayer"},
                             {"config", {{"batch_input_shape", shape}, {"name", "input"}}}});
    }
  }
  Json out = {{"layers", out_layers}};
  if (config.contains("name")) out["name"] = config["name"];
  return out;
}

Json functional(const Json& inner, const std::string& source, Problems& problems) {
  if (!inner.is_object())
    throw ConfigError(source + ": config must be an object, received " + shown(inner));
  const Json& layers = field(inner, "layers", source + " config");
  if (!layers.is_array() || layers.empty())
    throw ConfigError(source + ": config.layers must be a non-empty list, received " +
                      shown(layers));
  Json out = inner;
  out["layers"] = Json::array();
  for (size_t i = 0; i < layers.size(); ++i)
    out["layers"].push_back(translate_entry(layers[i], i, source, problems));
  for (const char* key : {"trainable", "dtype"}) out.erase(key);
  return out;
}

// Keras 3 writes a loss or metric passed as a function as {"class_name": "function", "config":
// its name}.
Json named_function(const Json& v) {
  if (v.is_object() && v.value("class_name", "") == "function" && v.contains("config") &&
      v["config"].is_string())
    return v["config"];
  return v;
}

// An optimizer's settings as kiln's registry reads them: no optimizer is compile()'s default,
// RMSprop; Keras 2.11's "Custom>" class prefix, Keras 2.0-2.2's "lr", and Keras 2's "decay" of
// 0 (no decay) are undone.
Json keras_optimizer(Json optimizer) {
  if (optimizer.is_null()) return "rmsprop";
  if (!optimizer.is_object()) return optimizer;
  if (optimizer.contains("class_name") && optimizer["class_name"].is_string()) {
    const std::string name = optimizer["class_name"].get<std::string>();
    if (name.starts_with("Custom>")) optimizer["class_name"] = name.substr(7);
  }
  if (optimizer.contains("config") && optimizer["config"].is_object()) {
    Json& c = optimizer["config"];
    if (c.contains("lr") && !c.contains("learning_rate")) {
      c["learning_rate"] = c["lr"];
      c.erase("lr");
    }
    if (c.contains("decay") && c["decay"].is_number() && c["decay"].get<double>() == 0.0)
      c.erase("decay");
  }
  return optimizer;
}

std::string supported_summary() {
  std::string names;
  for (const auto& [cls, fields] : read_fields()) names += (names.empty() ? "" : ", ") + cls;
  return "kiln's layers: " + names + ", InputLayer; its activations: " + kActivations;
}

}  // namespace

nlohmann::json keras_model_config(const nlohmann::json& keras_in, const std::string& source) {
  const Json keras = unwrap(keras_in);
  const std::string cls = get_as<std::string>(keras, "class_name", source, "a string");
  if (cls != "Sequential" && cls != "Functional" && cls != "Model")
    throw ConfigError(source + ": the model is a '" + cls +
                      "' (a subclassed or custom model, whose code is not in the file); kiln loads "
                      "Sequential and functional models");
  Problems problems;
  const Json& inner = field(keras, "config", source);
  Json config = cls == "Sequential" ? sequential(keras, inner, source, problems)
                                    : functional(inner, source, problems);
  if (!problems.items.empty()) {
    std::string msg = source + ": kiln cannot run " + std::to_string(problems.items.size()) +
                      (problems.items.size() == 1 ? " item" : " items") + " of this model:";
    for (const auto& item : problems.items) msg += "\n  - " + item;
    throw ConfigError(msg + "\n" + supported_summary());
  }
  return {{"class_name", cls == "Sequential" ? "Sequential" : "Functional"}, {"config", config}};
}

bool compile_from_keras(Model& model, const nlohmann::json& settings_in, std::string& why) {
  const Json settings = unwrap(settings_in);
  try {
    if (!settings.is_object() || !settings.contains("loss") || settings["loss"].is_null()) {
      why = "the file records no loss";
      return false;
    }
    // Keras 2's training_config names the optimizer's settings optimizer_config.
    const Json optimizer = keras_optimizer(settings.contains("optimizer_config")
                                               ? settings["optimizer_config"]
                                               : settings.value("optimizer", Json()));
    CompileOptions options{.loss = losses::get(named_function(settings["loss"])),
                           .optimizer = optimizers::get(optimizer)};
    // Keras 2 writes metrics as names or as MeanMetricWrapper objects whose config names them,
    // possibly nested one list per output.
    for (const char* key : {"metrics", "weighted_metrics"}) {
      std::vector<std::string> names;
      std::function<void(const Json&)> collect = [&](const Json& given) {
        const Json m = named_function(given);
        if (m.is_array())
          for (const auto& item : m) collect(item);
        else if (m.is_string())
          names.push_back(m.get<std::string>());
        else if (m.is_object() && m.contains("config") && m["config"].is_object() &&
                 m["config"].contains("name"))
          names.push_back(m["config"]["name"].get<std::string>());
        else if (!m.is_null())
          throw ConfigError("metric " + shown(m));
      };
      if (settings.contains(key)) collect(settings[key]);
      (key == std::string("metrics") ? options.metrics : options.weighted_metrics) = names;
    }
    model.compile(options);
    return true;
  } catch (const Error& e) {
    why = e.what();
  } catch (const nlohmann::json::exception& e) {
    why = e.what();
  }
  return false;
}

}  // namespace kiln::io
