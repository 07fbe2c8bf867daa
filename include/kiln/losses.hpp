// Loss functions with Keras's names, arguments, defaults and configs. A loss sees the model's
// output batch and that batch's targets; fit divides its sum by the batch size, as Keras's
// default reduction "sum_over_batch_size" does.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "kiln/ref.hpp"
#include "kiln/tensor.hpp"

namespace kiln {

// One batch's targets as a loss or a metric reads them (not owned): integer class labels, one
// per sample, or float values shaped as the output (B rows of the output's values per sample);
// and optionally one weight per sample.
struct Targets {
  Targets() = default;
  Targets(const int32_t* labels) : labels(labels) {}
  Targets(const float* values) : values(values) {}
  const int32_t* labels = nullptr;
  const float* values = nullptr;
  const float* weights = nullptr;  // null: every sample weighs 1
  bool sparse() const { return labels != nullptr; }
};

// The targets a loss takes: integer class labels only, float values shaped as the output (or
// integer labels when the output has one value per sample: the label is the value), or either
// (integer labels then stand for one-hot rows).
enum class TargetKind { kLabels, kValues, kLabelsOrValues };

class Loss {
 public:
  virtual ~Loss() = default;
  virtual std::string name() const = 0;  // Keras name: "sparse_categorical_crossentropy"
  // Sum over the batch of w_i * loss_i for outputs `out` (B, C) (C: the output's values per
  // sample), w_i the sample weights (1 without them).
  virtual double forward(const Tensor& out, const Targets& y) const = 0;
  // grad (B,C) = d(sum of w_i * loss_i / scale)/d(out); with fuse_activation, the gradient with
  // respect to the input of the output's activation instead (only if fused_activation() names
  // the output layer's activation).
  virtual void backward(const Tensor& out, const Targets& y, float scale, Tensor& grad,
                        bool fuse_activation) const = 0;
  // The output activation this loss is differentiated together with, for stability and speed
  // ("softmax" for the categorical cross-entropies, "sigmoid" for the binary one, on
  // probabilities), or null.
  virtual const char* fused_activation() const { return nullptr; }
  virtual TargetKind target_kind() const { return TargetKind::kValues; }
  // {"module": "keras.losses", "class_name": ..., "config": {...}, "registered_name": null}
  virtual nlohmann::json config() const = 0;
};

namespace losses {

struct SparseCategoricalCrossentropyOptions {
  bool from_logits = false;
};

// -log(p[label]) for integer labels; from_logits applies the softmax itself. Probabilities are
// clipped to [1e-7, 1 - 1e-7] as in Keras.
class SparseCategoricalCrossentropy : public Loss {
 public:
  SparseCategoricalCrossentropy(SparseCategoricalCrossentropyOptions options = {})
      : options_(options) {}
  std::string name() const override { return "sparse_categorical_crossentropy"; }
  double forward(const Tensor& out, const Targets& y) const override;
  void backward(const Tensor& out, const Targets& y, float scale, Tensor& grad,
                bool fuse_activation) const override;
  const char* fused_activation() const override {
    return options_.from_logits ? nullptr : "softmax";
  }
  TargetKind target_kind() const override { return TargetKind::kLabels; }
  nlohmann::json config() const override;

 private:
  SparseCategoricalCrossentropyOptions options_;
};

struct CategoricalCrossentropyOptions {
  bool from_logits = false;
  double label_smoothing = 0.0;  // in [0, 1]: targets become t (1 - s) + s / classes
};

// -sum_j t_j log(q_j) for one-hot (or any probability) targets t, q the output rows normalized
// to sum to 1 and clipped to [1e-7, 1 - 1e-7], as in Keras; from_logits applies the softmax.
// Beyond Keras, integer class labels are taken too and stand for one-hot rows, so that
// label_smoothing works with the datasets' labels as they load.
class CategoricalCrossentropy : public Loss {
 public:
  CategoricalCrossentropy(CategoricalCrossentropyOptions options = {});
  std::string name() const override { return "categorical_crossentropy"; }
  double forward(const Tensor& out, const Targets& y) const override;
  void backward(const Tensor& out, const Targets& y, float scale, Tensor& grad,
                bool fuse_activation) const override;
  const char* fused_activation() const override {
    return options_.from_logits ? nullptr : "softmax";
  }
  TargetKind target_kind() const override { return TargetKind::kLabelsOrValues; }
  nlohmann::json config() const override;

 private:
  CategoricalCrossentropyOptions options_;
};

struct BinaryCrossentropyOptions {
  bool from_logits = false;
  double label_smoothing = 0.0;  // in [0, 1]: targets become t (1 - s) + s / 2
};

// Mean over the output's values of -(t log p + (1 - t) log(1 - p)): one sigmoid unit, or several
// independent ones. p is clipped to [1e-7, 1 - 1e-7]; from_logits applies the sigmoid itself.
class BinaryCrossentropy : public Loss {
 public:
  BinaryCrossentropy(BinaryCrossentropyOptions options = {});
  std::string name() const override { return "binary_crossentropy"; }
  double forward(const Tensor& out, const Targets& y) const override;
  void backward(const Tensor& out, const Targets& y, float scale, Tensor& grad,
                bool fuse_activation) const override;
  const char* fused_activation() const override {
    return options_.from_logits ? nullptr : "sigmoid";
  }
  nlohmann::json config() const override;

 private:
  BinaryCrossentropyOptions options_;
};

// Mean over the output's values of (out - t)^2.
class MeanSquaredError : public Loss {
 public:
  std::string name() const override { return "mean_squared_error"; }
  double forward(const Tensor& out, const Targets& y) const override;
  void backward(const Tensor& out, const Targets& y, float scale, Tensor& grad,
                bool) const override;
  nlohmann::json config() const override;
};

// Mean over the output's values of |out - t|.
class MeanAbsoluteError : public Loss {
 public:
  std::string name() const override { return "mean_absolute_error"; }
  double forward(const Tensor& out, const Targets& y) const override;
  void backward(const Tensor& out, const Targets& y, float scale, Tensor& grad,
                bool) const override;
  nlohmann::json config() const override;
};

struct HuberOptions {
  double delta = 1.0;
};

// Mean over the output's values of e^2 / 2 where |e| <= delta, delta (|e| - delta / 2) beyond,
// e = out - t.
class Huber : public Loss {
 public:
  Huber(HuberOptions options = {});
  std::string name() const override { return "huber_loss"; }
  double forward(const Tensor& out, const Targets& y) const override;
  void backward(const Tensor& out, const Targets& y, float scale, Tensor& grad,
                bool) const override;
  nlohmann::json config() const override;

 private:
  HuberOptions options_;
};

// Builds a loss from its Keras name or alias ("mse", "mae", "bce", "categorical_crossentropy",
// "Huber", ...) or serialized config ({"class_name": ..., "config": {...}}). An unknown name is
// a ValueError; a config field of the wrong type, or one the loss does not take, a ConfigError
// naming the field.
std::shared_ptr<Loss> get(const nlohmann::json& name_or_config);

}  // namespace losses

// A loss given by name ("sparse_categorical_crossentropy") or as an object.
class LossRef : public Ref<Loss> {
 public:
  using Ref::Ref;
  LossRef(const char* name) : Ref(losses::get(name)) {}
  LossRef(const std::string& name) : Ref(losses::get(name)) {}
};

}  // namespace kiln
