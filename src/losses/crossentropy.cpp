// The cross-entropies: sparse (integer labels), categorical (one-hot rows, or integer labels
// standing for them) and binary, on probabilities or logits.
#include "losses/loss_common.hpp"

namespace kiln::losses {

nlohmann::json serialized(const char* class_name, const std::string& name, nlohmann::json fields) {
  fields["name"] = name;
  fields["reduction"] = kReduction;
  return {{"module", "keras.losses"},
          {"class_name", class_name},
          {"config", fields},
          {"registered_name", nullptr}};
}

void check_label_smoothing(double smoothing, const char* loss) {
  if (!(smoothing >= 0.0 && smoothing <= 1.0))
    throw ValueError(std::string(loss) +
                     ": label_smoothing must be in [0, 1], received label_smoothing=" +
                     std::to_string(smoothing));
}

double SparseCategoricalCrossentropy::forward(const Tensor& out, const Targets& y) const {
  int64_t B = out.dim(0), C = out.row_size();
  return options_.from_logits
             ? cpu::sparse_xent_logits_forward(out.data(), y.labels, y.weights, B, C)
             : cpu::sparse_xent_probs_forward(out.data(), y.labels, y.weights, B, C);
}

void SparseCategoricalCrossentropy::backward(const Tensor& out, const Targets& y, float scale,
                                             Tensor& grad, bool fuse_activation) const {
  int64_t B = out.dim(0), C = out.row_size();
  if (options_.from_logits)
    cpu::sparse_xent_logits_backward(grad.data(), out.data(), y.labels, y.weights, B, C, scale);
  else if (fuse_activation)
    cpu::softmax_xent_backward(grad.data(), out.data(), y.labels, y.weights, B, C, scale);
  else
    cpu::sparse_xent_probs_backward(grad.data(), out.data(), y.labels, y.weights, B, C, scale);
}

nlohmann::json SparseCategoricalCrossentropy::config() const {
  return serialized(
      "SparseCategoricalCrossentropy", name(),
      {{"from_logits", options_.from_logits}, {"ignore_class", nullptr}, {"axis", -1}});
}

CategoricalCrossentropy::CategoricalCrossentropy(CategoricalCrossentropyOptions options)
    : options_(options) {
  check_label_smoothing(options_.label_smoothing, "CategoricalCrossentropy");
}

double CategoricalCrossentropy::forward(const Tensor& out, const Targets& y) const {
  const int64_t B = out.dim(0), C = out.row_size();
  const auto s = static_cast<float>(options_.label_smoothing);
  return options_.from_logits
             ? cpu::xent_logits_forward(out.data(), rows_of(y, false), y.weights, B, C, s)
             : cpu::xent_probs_forward(out.data(), rows_of(y, false), y.weights, B, C, s);
}

void CategoricalCrossentropy::backward(const Tensor& out, const Targets& y, float scale,
                                       Tensor& grad, bool fuse_activation) const {
  const int64_t B = out.dim(0), C = out.row_size();
  const auto s = static_cast<float>(options_.label_smoothing);
  if (options_.from_logits || fuse_activation)
    cpu::xent_logits_backward(grad.data(), out.data(), rows_of(y, false), y.weights, B, C, s, scale,
                              fuse_activation);
  else
    cpu::xent_probs_backward(grad.data(), out.data(), rows_of(y, false), y.weights, B, C, s, scale);
}

nlohmann::json CategoricalCrossentropy::config() const {
  return serialized("CategoricalCrossentropy", name(),
                    {{"from_logits", options_.from_logits},
                     {"label_smoothing", options_.label_smoothing},
                     {"axis", -1}});
}

BinaryCrossentropy::BinaryCrossentropy(BinaryCrossentropyOptions options) : options_(options) {
  check_label_smoothing(options_.label_smoothing, "BinaryCrossentropy");
}

double BinaryCrossentropy::forward(const Tensor& out, const Targets& y) const {
  const int64_t B = out.dim(0), C = out.row_size();
  const auto s = static_cast<float>(options_.label_smoothing);
  return options_.from_logits
             ? cpu::bce_logits_forward(out.data(), rows_of(y, true), y.weights, B, C, s)
             : cpu::bce_probs_forward(out.data(), rows_of(y, true), y.weights, B, C, s);
}

void BinaryCrossentropy::backward(const Tensor& out, const Targets& y, float scale, Tensor& grad,
                                  bool fuse_activation) const {
  const int64_t B = out.dim(0), C = out.row_size();
  const auto s = static_cast<float>(options_.label_smoothing);
  if (options_.from_logits || fuse_activation)
    cpu::bce_logits_backward(grad.data(), out.data(), rows_of(y, true), y.weights, B, C, s, scale,
                             fuse_activation);
  else
    cpu::bce_probs_backward(grad.data(), out.data(), rows_of(y, true), y.weights, B, C, s, scale);
}

nlohmann::json BinaryCrossentropy::config() const {
  return serialized("BinaryCrossentropy", name(),
                    {{"from_logits", options_.from_logits},
                     {"label_smoothing", options_.label_smoothing},
                     {"axis", -1}});
}

}  // namespace kiln::losses
