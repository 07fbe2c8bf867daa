// Keras's own files, read and written (docs/formats.md, "Keras's files"):
//   .keras      Keras 3's zip: config.json, metadata.json, model.weights.h5 (weights under
//               layers/<class in snake case>[_k]/vars/<i>)
//   .h5         the legacy full-model HDF5 file of Keras 2 (and Keras 3's legacy writer):
//               attributes model_config, training_config, keras_version; weights under
//               model_weights/<layer>/ in the order of each layer's weight_names attribute
//   .weights.h5 weights alone, in either layout
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "io/hdf5.hpp"
#include "kiln/model.hpp"

namespace kiln::io {

// A Keras model config (config.json's, or model_config's) rewritten as kiln's config.json
// architecture: Keras 3's module / registered_name wrappers removed, Sequential's input shape
// made an InputLayer, initializers kiln lacks dropped (the file's weights replace them). Every
// layer, activation or option kiln cannot run is collected, and one ConfigError lists them all,
// by layer name and class, with what kiln supports.
nlohmann::json keras_model_config(const nlohmann::json& keras, const std::string& source);

// Compile settings from Keras 3's compile_config or Keras 2's training_config; false (the model
// stays uncompiled, `why` says what was not understood) when kiln cannot take them.
bool compile_from_keras(Model& model, const nlohmann::json& settings, std::string& why);

// The weights of `model` from a Keras 3 weights file (layers/<snake_case>/vars/<i>), by name
// "<layer>/<weight>" as assign_named_weights takes them. The file's groups are matched to the
// layers as Keras matches them: by class, in Keras's layer order (a loaded file's config order;
// a model built in kiln, its layers()).
std::map<std::string, Tensor> read_keras3_weights(const h5::File& file,
                                                  const std::vector<LayerRef>& layers);
// The same from the legacy layout under `root` ("/" for save_weights' file, "model_weights" in a
// full-model file): by layer name when `by_name`, else by position among the layers that have
// weights, as Keras 2's load_weights does.
std::map<std::string, Tensor> read_legacy_weights(const h5::File& file, const std::string& root,
                                                  const Model& model, bool by_name);
// The weights in either layout, told apart by the file's contents.
std::map<std::string, Tensor> read_keras_weights(const h5::File& file, const Model& model);

// Keras's snake case of a class name ("BatchNormalization" -> "batch_normalization",
// "Conv2D" -> "conv2d"), which names a layer's group in Keras 3's weights file.
std::string keras_snake_case(const std::string& class_name);

// Each layer's group in Keras 3's weights file, in order: "layers/<snake_case>", with "_k" for
// the k-th later layer of the same class.
std::vector<std::string> keras3_groups(const std::vector<LayerRef>& layers);

// Loads a .keras archive or a legacy .h5 model.
Model load_keras_file(const std::filesystem::path& path);
// Writes the model as a Keras 3 .keras archive.
void save_keras_file(const Model& model, const std::filesystem::path& path);

}  // namespace kiln::io
