#include "kiln/losses.hpp"

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
  if (spec.is_string()) {
    name = spec.get<std::string>();
  } else if (spec.is_object() && spec.contains("class_name") && spec["class_name"].is_string()) {
    name = spec["class_name"].get<std::string>();
    const auto& cfg = spec.value("config", nlohmann::json::object());
    if (cfg.contains("from_logits") && cfg["from_logits"].is_boolean())
      from_logits = cfg["from_logits"].get<bool>();
  }
  if (name == "sparse_categorical_crossentropy" || name == "SparseCategoricalCrossentropy")
    return std::make_shared<SparseCategoricalCrossentropy>(
        SparseCategoricalCrossentropyOptions{.from_logits = from_logits});
  throw ValueError("unknown loss " + spec.dump() +
                   "; expected \"sparse_categorical_crossentropy\"");
}

}  // namespace kiln::losses
