#include "serving/signature.hpp"

namespace kiln::serving {

Signature signature_of(const Model& model) {
  Signature s;
  for (const auto& in : model.inputs()) s.inputs.push_back({in.layer()->name(), in.shape()});
  for (const auto& out : model.outputs()) s.outputs.push_back({out.layer()->name(), out.shape()});
  s.class_names = model.class_names;
  s.preprocessing = model.preprocessing;
  if (auto it = model.metadata.find("dataset"); it != model.metadata.end()) s.dataset = it->second;
  return s;
}

}  // namespace kiln::serving
