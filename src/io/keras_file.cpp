// Loading Keras's model files: the .keras zip of Keras 3 and the legacy full-model .h5. The
// architecture is checked whole before any weight is read (keras_model_config), then the weights
// are matched to the layers, then compile settings are taken where kiln has them.
#include <algorithm>
#include <fstream>

#include "io/json_fields.hpp"
#include "io/keras.hpp"
#include "io/model_config.hpp"
#include "io/named_weights.hpp"
#include "kiln/io.hpp"

namespace kiln::io {

namespace {

using Json = nlohmann::json;

// What Keras's files are allowed to hold before kiln refuses them: a config of 64 MiB is far
// beyond any real model's; the weights are bounded by memory.
constexpr uint64_t kMaxConfigBytes = uint64_t{64} << 20;
constexpr uint64_t kMaxWeightsBytes = uint64_t{4} << 30;

std::string first_bytes(const std::filesystem::path& path, size_t n) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes(n, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(n));
  bytes.resize(static_cast<size_t>(in.gcount()));
  return bytes;
}

// The layers in the order Keras names their weight groups: a functional model's config order,
// a Sequential's layers without its input.
std::vector<LayerRef> keras_layer_order(const Model& model, const Json& kiln_config) {
  if (model.class_name() == "Sequential") return model.layers();
  std::vector<LayerRef> order;
  for (const auto& entry : kiln_config["config"]["layers"]) {
    const Json& name = entry.contains("name") ? entry["name"] : entry["config"]["name"];
    order.push_back(model.get_layer(name.get<std::string>()));
  }
  return order;
}

// An imported model records no preprocessing: the usual 1/255 for 8-bit pixels, unless the
// model rescales its input itself.
void assume_preprocessing(Model& model) {
  const auto& layers = model.layers();
  auto first = std::find_if(layers.begin(), layers.end(),
                            [](const LayerRef& l) { return l->class_name() != "InputLayer"; });
  if (first != layers.end() && (*first)->class_name() == "Rescaling") {
    model.preprocessing.rescale = 1.0;
    model.metadata["rescale"] = "1 (the model begins with a Rescaling layer)";
  } else {
    model.preprocessing.rescale = 1.0 / 255.0;
    model.metadata["rescale"] = "1/255 (assumed: the file records no preprocessing)";
  }
}

void take_compile_settings(Model& model, const Json& settings) {
  std::string why;
  if (settings.is_null()) return;
  if (!compile_from_keras(model, settings, why))
    model.metadata["keras_compile"] = "not taken: " + why;
}

Model build(const Json& keras_config, const std::string& where, Json& kiln_config) {
  kiln_config = keras_model_config(keras_config, where);
  return model_from_config(kiln_config, where);
}

Model load_keras_archive(const std::filesystem::path& path) {
  const std::string source = path.string();
  auto members = read_archive_members(path, {{"config.json", kMaxConfigBytes},
                                             {"model.weights.h5", kMaxWeightsBytes},
                                             {"metadata.json", kMaxConfigBytes, false}});
  const std::string config_source = source + " config.json";
  const Json config = parse_json(members["config.json"], config_source);
  Json kiln_config;
  Model model = build(config, config_source, kiln_config);
  const auto file = h5::File::open_image(members["model.weights.h5"], source + " model.weights.h5");
  assign_named_weights(model, read_keras3_weights(file, keras_layer_order(model, kiln_config)),
                       file.source());
  if (members.count("metadata.json")) {
    const Json meta =
        parse_json<Json, IoError>(members["metadata.json"], source + " metadata.json");
    if (meta.is_object() && meta.contains("keras_version") && meta["keras_version"].is_string())
      model.metadata["keras_version"] = meta["keras_version"].get<std::string>();
  }
  take_compile_settings(model,
                        config.is_object() ? config.value("compile_config", Json()) : Json());
  return model;
}

Model load_legacy_h5(const std::filesystem::path& path) {
  const auto file = h5::File::open(path);
  if (!file.has_attribute("/", "model_config"))
    throw IoError(
        file.source() +
        ": an HDF5 file without a 'model_config' attribute holds weights only; build the model and "
        "read them with load_weights");
  const std::string where = file.source() + " model_config";
  Json kiln_config;
  Model model =
      build(parse_json(file.string_attribute("/", "model_config"), where), where, kiln_config);
  assign_named_weights(model, read_legacy_weights(file, "model_weights", model, true),
                       file.source());
  if (file.has_attribute("/", "keras_version"))
    model.metadata["keras_version"] = file.string_attribute("/", "keras_version");
  if (file.has_attribute("/", "training_config"))
    take_compile_settings(model, parse_json(file.string_attribute("/", "training_config"),
                                            file.source() + " training_config"));
  return model;
}

}  // namespace

bool is_keras_file(const std::filesystem::path& path) {
  if (!std::filesystem::is_regular_file(path)) return false;
  const std::string head = first_bytes(path, 8);
  return head.starts_with("PK\x03\x04") || head == std::string("\x89HDF\r\n\x1a\n", 8);
}

Model load_keras_file(const std::filesystem::path& path) {
  const std::string head = first_bytes(path, 8);
  Model model = head.starts_with("PK") ? load_keras_archive(path) : load_legacy_h5(path);
  model.metadata["imported_from"] = path.filename().string();
  assume_preprocessing(model);
  return model;
}

}  // namespace kiln::io
