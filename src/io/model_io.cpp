// Model::save and load_model: config.json + model.safetensors, for Sequential and functional
// models alike.
#include "io/json_fields.hpp"
#include "io/keras.hpp"
#include "io/model_config.hpp"
#include "io/named_weights.hpp"
#include "kiln/io.hpp"
#include "kiln/version.hpp"

namespace kiln {

namespace io {

namespace {

void read_compile_config(const nlohmann::json& config, Model& model, const std::string& source) {
  if (!config.contains("compile_config") || config["compile_config"].is_null()) return;
  const auto& cc = config["compile_config"];
  std::string where = source + " compile_config";
  CompileOptions options{.loss = losses::get(field(cc, "loss", where)),
                         .optimizer = optimizers::get(field(cc, "optimizer", where))};
  options.metrics = string_list(cc, "metrics", where);
  // Keras writes null for no weighted metrics.
  if (cc.contains("weighted_metrics") && !cc["weighted_metrics"].is_null())
    options.weighted_metrics = string_list(cc, "weighted_metrics", where);
  model.compile(options);
}

void read_extras(const nlohmann::json& config, Model& model, const std::string& source) {
  model.class_names = string_list(config, "class_names", source);
  if (config.contains("preprocessing")) {
    const auto& pre = config["preprocessing"];
    const std::string where = source + " preprocessing";
    model.preprocessing.rescale = get_or<double>(pre, "rescale", where, "a number", 1.0);
    model.preprocessing.interpolation = get_or<std::string>(pre, "interpolation", where, "a string", "bilinear");
    model.preprocessing.crop_to_aspect_ratio = get_or<bool>(pre, "crop_to_aspect_ratio", where, "true or false", false);
  }
  if (config.contains("metadata")) {
    const auto& meta = config["metadata"];
    if (!meta.is_object()) throw ConfigError(source + ": metadata must be an object, received " + meta.dump());
    for (const auto& [k, v] : meta.items()) {
      if (!v.is_string()) throw ConfigError(source + ": metadata '" + k + "' must be a string, received " + v.dump());
      model.metadata[k] = v.get<std::string>();
    }
  }
}

}  // namespace

nlohmann::ordered_json model_config(const Model& model) {
  nlohmann::ordered_json config = {
      {"class_name", model.class_name()},
      {"config", model.class_name() == "Sequential" ? sequential_config(model) : functional_config(model)},
      {"kiln_version", kVersion},
      {"backend", "kiln"},
  };
  if (model.compiled()) {
    // Keras writes null for no weighted metrics.
    const nlohmann::ordered_json weighted = model.weighted_metric_names();
    nlohmann::ordered_json opt = {{"class_name", model.optimizer()->class_name()},
                                  {"config", model.optimizer()->config()}};
    config["compile_config"] = {{"loss", model.loss()->config()},
                                {"optimizer", opt},
                                {"metrics", model.metric_names()},
                                {"weighted_metrics", weighted.empty() ? nlohmann::ordered_json() : weighted}};
  }
  config["class_names"] = model.class_names;
  config["preprocessing"] = {{"rescale", model.preprocessing.rescale},
                             {"interpolation", model.preprocessing.interpolation},
                             {"crop_to_aspect_ratio", model.preprocessing.crop_to_aspect_ratio}};
  config["metadata"] = model.metadata;
  return config;
}

Model model_from_config(const nlohmann::json& config, const std::string& source) {
  std::string cls = get_as<std::string>(config, "class_name", source, "a string");
  const auto& inner = field(config, "config", source);
  Model model = [&]() -> Model {
    try {
      if (cls == "Sequential") return sequential_from_config(inner, source);
      if (cls == "Functional" || cls == "Model") return functional_from_config(inner, source);
    } catch (const ShapeError& e) {
      throw ConfigError(source + ": " + e.what());
    } catch (const ConfigError&) {
      throw;
    } catch (const ValueError& e) {
      throw ConfigError(source + ": " + e.what());
    }
    throw ConfigError(source + ": class_name must be \"Sequential\" or \"Functional\", received " +
                      config["class_name"].dump());
  }();
  read_compile_config(config, model, source);
  read_extras(config, model, source);
  return model;
}

}  // namespace io

void Model::save(const std::filesystem::path& dir) const {
  require_built("save");
  if (dir.extension() == ".keras") return io::save_keras_file(*this, dir);
  if (dir.extension() == ".h5")
    throw IoError(dir.string() + ": kiln writes Keras 3's .keras format, not the legacy .h5; save to a .keras "
                  "path, or to a folder for kiln's own format");
  io::write_folder_atomic(dir, {{"model.safetensors", io::safetensors_bytes(io::named_weights(*this), {{"format", "kiln"}})},
                                {"config.json", io::model_config(*this).dump(2) + "\n"}});
}

Model load_model(const std::filesystem::path& dir) {
  if (std::filesystem::is_regular_file(dir)) {
    if (!io::is_keras_file(dir))
      throw IoError(dir.string() + ": a file that is neither a .keras archive nor an HDF5 .h5 model; kiln loads "
                    "those and model folders (config.json + model.safetensors)");
    return io::load_keras_file(dir);
  }
  auto config_path = dir / "config.json";
  Model model = io::model_from_config(io::parse_json(io::read_file(config_path), config_path.string()),
                                      config_path.string());
  auto weights_path = dir / "model.safetensors";
  io::assign_named_weights(model, io::read_safetensors(weights_path), weights_path.string());
  return model;
}

Model clone_model(const Model& model) { return io::model_from_config(io::model_config(model), "clone_model"); }

}  // namespace kiln
