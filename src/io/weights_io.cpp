// Weights by name: what Model::save and load_model store in model.safetensors, and Keras's
// save_weights / load_weights, which write and read one such file on its own.
#include "io/keras.hpp"
#include "io/named_weights.hpp"
#include "kiln/io.hpp"

namespace kiln {

namespace io {

std::map<std::string, Tensor> named_weights(const Model& model) {
  std::map<std::string, Tensor> tensors;
  for (const auto& layer : model.layers())
    for (const auto& p : layer->params()) tensors.emplace(layer->name() + "/" + p.name, p.value);
  return tensors;
}

void assign_named_weights(Model& model, const std::map<std::string, Tensor>& tensors,
                          const std::string& source) {
  size_t used = 0;
  for (const auto& layer : model.layers())
    for (auto& p : layer->params()) {
      std::string key = layer->name() + "/" + p.name;
      auto it = tensors.find(key);
      if (it == tensors.end())
        throw IoError(source + ": missing weight '" + key + "' of shape " + shape_str(p.shape));
      if (it->second.shape() != p.shape)
        throw IoError(source + ": weight '" + key + "' has shape " + shape_str(it->second.shape()) +
                      ", the model expects " + shape_str(p.shape));
      std::copy_n(it->second.data(), it->second.size(), p.value.data());
      ++used;
    }
  for (const auto& [name, t] : tensors)
    if (used < tensors.size() && !name.starts_with("optimizer/")) {
      bool known = false;
      for (const auto& layer : model.layers())
        for (const auto& p : layer->params()) known |= name == layer->name() + "/" + p.name;
      if (!known)
        throw IoError(source + ": weight '" + name + "' belongs to no layer of the model");
    }
}

}  // namespace io

void Model::save_weights(const std::filesystem::path& path) const {
  require_built("save_weights");
  io::write_file_atomic(path,
                        io::safetensors_bytes(io::named_weights(*this), {{"format", "kiln"}}));
}

void Model::load_weights(const std::filesystem::path& path) {
  require_built("load_weights");
  if (io::is_keras_file(path)) {
    const auto file = io::h5::File::open(path);
    io::assign_named_weights(*this, io::read_keras_weights(file, *this), path.string());
    return;
  }
  io::assign_named_weights(*this, io::read_safetensors(path), path.string());
}

}  // namespace kiln
