// Keras's weights files, matched to a kiln model's layers. A layer's weights come in the same
// order in Keras and kiln (kernel, bias; gamma, beta, moving_mean, moving_variance), so each
// layer's list is taken by position once its group is found.
#include <regex>
#include <set>

#include "io/keras.hpp"

namespace kiln::io {

namespace {

using Weights = std::map<std::string, Tensor>;

// Reads the datasets `paths` of one layer into `out`, shape-checked against its weights.
void take_layer(const h5::File& file, const Layer& layer, const std::vector<std::string>& paths,
                const std::string& group, Weights& out) {
  const auto& params = layer.params();
  if (paths.size() != params.size()) {
    std::string names;
    for (const auto& p : params) names += (names.empty() ? "" : ", ") + p.name;
    throw IoError(file.source() + ": '" + group + "' holds " + std::to_string(paths.size()) +
                  " weights, layer '" + layer.name() + "' (" + layer.class_name() + ") has " +
                  std::to_string(params.size()) + (names.empty() ? "" : " (" + names + ")"));
  }
  for (size_t i = 0; i < params.size(); ++i)
    out.emplace(layer.name() + "/" + params[i].name, file.read_floats(paths[i], params[i].shape));
}

std::vector<LayerRef> layers_with_weights(const Model& model) {
  std::vector<LayerRef> out;
  for (const auto& layer : model.layers())
    if (!layer->params().empty()) out.push_back(layer);
  return out;
}

// A group's weight datasets, in Keras's order: vars/0, vars/1, ...
std::vector<std::string> keras3_vars(const h5::File& file, const std::string& group) {
  std::vector<std::string> paths;
  const std::string vars = group + "/vars";
  if (!file.is_group(vars)) return paths;
  const size_t n = file.members(vars).size();
  for (size_t i = 0; i < n; ++i) {
    std::string path = vars + "/" + std::to_string(i);
    if (!file.exists(path))
      throw IoError(file.source() + ": '" + vars + "' has " + std::to_string(n) +
                    " members but no '" + std::to_string(i) + "'");
    paths.push_back(path);
  }
  return paths;
}

}  // namespace

std::string keras_snake_case(const std::string& class_name) {
  static const std::regex non_word("\\W+"), upper_word("(.)([A-Z][a-z]+)"),
      lower_upper("([a-z])([A-Z])");
  std::string s = std::regex_replace(class_name, non_word, "");
  s = std::regex_replace(s, upper_word, "$1_$2");
  s = std::regex_replace(s, lower_upper, "$1_$2");
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<std::string> keras3_groups(const std::vector<LayerRef>& layers) {
  std::map<std::string, int> used;  // per snake-case class name, how many came before
  std::vector<std::string> groups;
  for (const auto& layer : layers) {
    const std::string base = keras_snake_case(layer->class_name());
    auto [it, first] = used.emplace(base, 0);
    if (!first) ++it->second;
    groups.push_back("layers/" + (first ? base : base + "_" + std::to_string(it->second)));
  }
  return groups;
}

Weights read_keras3_weights(const h5::File& file, const std::vector<LayerRef>& layers) {
  Weights out;
  const std::vector<std::string> groups_of = keras3_groups(layers);
  const std::set<std::string> matched(groups_of.begin(), groups_of.end());
  for (size_t i = 0; i < layers.size(); ++i) {
    const auto& layer = layers[i];
    const std::string& group = groups_of[i];
    if (layer->params().empty()) continue;
    if (!file.is_group(group))
      throw IoError(file.source() + ": no group '" + group + "' for layer '" + layer->name() +
                    "' (" + layer->class_name() + ") in Keras 3's layout");
    take_layer(file, *layer, keras3_vars(file, group), group, out);
  }
  const std::vector<std::string> groups =
      file.is_group("layers") ? file.members("layers") : std::vector<std::string>{};
  for (const auto& name : groups) {
    const std::string group = "layers/" + name;
    if (!matched.count(group) && !keras3_vars(file, group).empty())
      throw IoError(file.source() + ": '" + group +
                    "' holds weights that no layer of the model takes");
  }
  return out;
}

Weights read_legacy_weights(const h5::File& file, const std::string& root, const Model& model,
                            bool by_name) {
  Weights out;
  const std::string prefix = root == "/" ? "" : root + "/";
  std::vector<std::string> file_layers;
  for (const auto& name : file.string_list_attribute(root, "layer_names")) {
    if (file.string_list_attribute(prefix + name, "weight_names").empty()) continue;
    file_layers.push_back(name);
  }
  const std::vector<LayerRef> layers = layers_with_weights(model);
  auto weight_paths = [&](const std::string& name) {
    std::vector<std::string> paths;
    for (const auto& w : file.string_list_attribute(prefix + name, "weight_names"))
      paths.push_back(prefix + name + "/" + w);
    return paths;
  };
  if (by_name) {
    std::set<std::string> taken;
    for (const auto& layer : layers) {
      if (std::find(file_layers.begin(), file_layers.end(), layer->name()) == file_layers.end())
        throw IoError(file.source() + ": no weights for layer '" + layer->name() + "' (" +
                      layer->class_name() + ") under '" + root + "'");
      take_layer(file, *layer, weight_paths(layer->name()), prefix + layer->name(), out);
      taken.insert(layer->name());
    }
    for (const auto& name : file_layers)
      if (!taken.count(name))
        throw IoError(file.source() + ": '" + prefix + name +
                      "' holds weights that no layer of the model takes");
    return out;
  }
  if (file_layers.size() != layers.size())
    throw IoError(file.source() + ": the file holds weights for " +
                  std::to_string(file_layers.size()) + " layers, the model has " +
                  std::to_string(layers.size()) + " layers with weights");
  for (size_t i = 0; i < layers.size(); ++i)
    take_layer(file, *layers[i], weight_paths(file_layers[i]), prefix + file_layers[i], out);
  return out;
}

Weights read_keras_weights(const h5::File& file, const Model& model) {
  if (file.is_group("layers")) return read_keras3_weights(file, model.layers());
  if (file.has_attribute("/", "layer_names") || file.has_attribute("/", "layer_names0"))
    return read_legacy_weights(file, "/", model, false);
  if (file.is_group("model_weights"))
    return read_legacy_weights(file, "model_weights", model, false);
  throw IoError(file.source() +
                ": holds no Keras weights (neither Keras 3's 'layers' group nor Keras 2's "
                "'layer_names' attribute)");
}

}  // namespace kiln::io
