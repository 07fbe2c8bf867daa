#include "kiln/losses.hpp"

#include "io/json_fields.hpp"
#include "kernels/cpu/losses.hpp"

namespace kiln::losses {

double SparseCategoricalCrossentropy::forward(const Tensor& out, const int32_t* labels) const {
  int64_t B = out.dim(0), C = out.row_size();
  return options_.from_logits ? cpu::sparse_xent_logits_forward(out.data(), labels, B, C)
                              : cpu::sparse_xent_probs_forward(out.data(), labels, B, C);
}

void SparseCategoricalCrossentropy::backward(const Tensor& out, const int32_t* labels, float scale,
                                             Tensor& grad, bool fuse_softmax) const {
  int64_t B = out.dim(0), C = out.row_size();
  if (options_.from_logits)
    cpu::sparse_xent_logits_backward(grad.data(), out.data(), labels, B, C, scale);
  else if (fuse_softmax)
    cpu::softmax_xent_backward(grad.data(), out.data(), labels, B, C, scale);
  else
    cpu::sparse_xent_probs_backward(grad.data(), out.data(), labels, B, C, scale);
}

nlohmann::json SparseCategoricalCrossentropy::config() const {
  return {{"class_name", "SparseCategoricalCrossentropy"},
          {"config", {{"name", name()}, {"from_logits", options_.from_logits}}}};
}

std::shared_ptr<Loss> get(const nlohmann::json& spec) {
  std::string name;
  bool from_logits = false;
  const std::string where = "loss config";
  if (spec.is_string()) {
    name = spec.get<std::string>();
  } else if (spec.is_object()) {
    name = io::get_as<std::string>(spec, "class_name", where, "a loss name such as \"SparseCategoricalCrossentropy\"");
    if (spec.contains("config")) {
      const auto& cfg = spec["config"];
      if (!cfg.is_object()) throw ConfigError(where + ": field 'config' must be an object, received " + cfg.dump());
      from_logits = io::get_or<bool>(cfg, "from_logits", where + " (" + name + ")", "true or false", false);
    }
  }
  if (name == "sparse_categorical_crossentropy" || name == "SparseCategoricalCrossentropy")
    return std::make_shared<SparseCategoricalCrossentropy>(
        SparseCategoricalCrossentropyOptions{.from_logits = from_logits});
  throw ValueError("unknown loss " + spec.dump() +
                   "; expected \"sparse_categorical_crossentropy\"");
}

}  // namespace kiln::losses
