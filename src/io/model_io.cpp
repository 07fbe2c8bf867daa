// Sequential::save and load_model: config.json + model.safetensors.
#include "io/json_fields.hpp"
#include "kiln/io.hpp"
#include "kiln/layers/registry.hpp"

namespace kiln {

namespace io {

namespace {
constexpr const char* kVersion = "0.1.0";

nlohmann::json batch_shape(const Shape& per_sample) {
  nlohmann::json s = nlohmann::json::array({nullptr});
  for (int64_t d : per_sample) s.push_back(d);
  return s;
}
}  // namespace

nlohmann::ordered_json model_config(const Sequential& model) {
  nlohmann::ordered_json layers = nlohmann::ordered_json::array();
  layers.push_back({{"class_name", "InputLayer"},
                    {"config",
                     {{"batch_input_shape", batch_shape(model.input_shape())},
                      {"dtype", "float32"},
                      {"sparse", false},
                      {"ragged", false},
                      {"name", model.layers().front()->name() + "_input"}}}});
  for (const auto& layer : model.layers()) {
    nlohmann::ordered_json cfg = {
        {"name", layer->name()}, {"trainable", true}, {"dtype", dtype_policy_config(layer->dtype_policy())}};
    const nlohmann::json layer_config = layer->config();
    for (const auto& [k, v] : layer_config.items()) cfg[k] = v;
    layers.push_back({{"class_name", layer->class_name()}, {"config", cfg}});
  }
  nlohmann::ordered_json config = {
      {"class_name", "Sequential"},
      {"config", {{"name", model.name()}, {"layers", layers}}},
      {"kiln_version", kVersion},
      {"backend", "kiln"},
  };
  if (model.compiled()) {
    nlohmann::ordered_json opt = {{"class_name", model.optimizer()->class_name()},
                                  {"config", model.optimizer()->config()}};
    config["compile_config"] = {{"loss", model.loss()->config()},
                                {"optimizer", opt},
                                {"metrics", model.metric_names()}};
  }
  config["class_names"] = model.class_names;
  config["preprocessing"] = {{"rescale", model.preprocessing.rescale}};
  config["metadata"] = model.metadata;
  return config;
}

Sequential model_from_config(const nlohmann::json& config, const std::string& source) {
  if (get_as<std::string>(config, "class_name", source, "a string") != "Sequential")
    throw ConfigError(source + ": class_name must be \"Sequential\", received " + config["class_name"].dump());
  const auto& inner = field(config, "config", source);
  const auto& layers = field(inner, "layers", source + " config");
  if (!layers.is_array() || layers.empty())
    throw ConfigError(source + ": config.layers must be a non-empty array, received " + layers.dump());
  Shape input_shape;
  std::vector<LayerRef> built;
  for (size_t i = 0; i < layers.size(); ++i) {
    std::string where = source + " layer " + std::to_string(i);
    std::string cls = get_as<std::string>(layers[i], "class_name", where, "a string");
    const auto& cfg = field(layers[i], "config", where);
    if (cls == "InputLayer") {
      input_shape = per_sample_shape(field(cfg, "batch_input_shape", where), where);
      continue;
    }
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
  if (config.contains("compile_config") && !config["compile_config"].is_null()) {
    const auto& cc = config["compile_config"];
    std::string where = source + " compile_config";
    CompileOptions options{.loss = losses::get(field(cc, "loss", where)),
                           .optimizer = optimizers::get(field(cc, "optimizer", where))};
    if (cc.contains("metrics"))
      for (const auto& m : cc["metrics"]) {
        if (!m.is_string()) throw ConfigError(where + ": metrics must be strings, received " + m.dump());
        options.metrics.push_back(m.get<std::string>());
      }
    model.compile(options);
  }
  if (config.contains("class_names")) {
    for (const auto& c : config["class_names"]) {
      if (!c.is_string()) throw ConfigError(source + ": class_names must be strings, received " + c.dump());
      model.class_names.push_back(c.get<std::string>());
    }
  }
  if (config.contains("preprocessing"))
    model.preprocessing.rescale = get_or<double>(config["preprocessing"], "rescale", source + " preprocessing", "a number", 1.0);
  if (config.contains("metadata")) {
    const auto& meta = config["metadata"];
    if (!meta.is_object()) throw ConfigError(source + ": metadata must be an object, received " + meta.dump());
    for (const auto& [k, v] : meta.items()) {
      if (!v.is_string()) throw ConfigError(source + ": metadata '" + k + "' must be a string, received " + v.dump());
      model.metadata[k] = v.get<std::string>();
    }
  }
  return model;
}

}  // namespace io

void Sequential::save(const std::filesystem::path& dir) const {
  require_built("save");
  std::map<std::string, Tensor> tensors;
  for (const auto& layer : layers_)
    for (const auto& p : layer->params()) tensors.emplace(layer->name() + "/" + p.name, p.value);
  io::write_folder_atomic(dir, {{"model.safetensors", io::safetensors_bytes(tensors, {{"format", "kiln"}})},
                                {"config.json", io::model_config(*this).dump(2) + "\n"}});
}

Sequential load_model(const std::filesystem::path& dir) {
  auto config_path = dir / "config.json";
  nlohmann::json config;
  try {
    config = nlohmann::json::parse(io::read_file(config_path));
  } catch (const nlohmann::json::parse_error& e) {
    throw ConfigError(config_path.string() + ": not valid JSON (" + e.what() + ")");
  }
  Sequential model = io::model_from_config(config, config_path.string());
  auto weights_path = dir / "model.safetensors";
  auto tensors = io::read_safetensors(weights_path);
  size_t used = 0;
  for (const auto& layer : model.layers())
    for (auto& p : layer->params()) {
      std::string key = layer->name() + "/" + p.name;
      auto it = tensors.find(key);
      if (it == tensors.end())
        throw IoError(weights_path.string() + ": missing weight '" + key + "' of shape " + shape_str(p.shape));
      if (it->second.shape() != p.shape)
        throw IoError(weights_path.string() + ": weight '" + key + "' has shape " +
                      shape_str(it->second.shape()) + ", the model expects " + shape_str(p.shape));
      std::copy_n(it->second.data(), it->second.size(), p.value.data());
      ++used;
    }
  for (const auto& [name, t] : tensors)
    if (used < tensors.size() && !name.starts_with("optimizer/")) {
      bool known = false;
      for (const auto& layer : model.layers())
        for (const auto& p : layer->params()) known |= name == layer->name() + "/" + p.name;
      if (!known) throw IoError(weights_path.string() + ": weight '" + name + "' belongs to no layer of the model");
    }
  return model;
}

}  // namespace kiln
