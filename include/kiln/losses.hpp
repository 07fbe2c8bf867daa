// Loss functions. A loss sees the model's output batch and the integer labels.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "kiln/ref.hpp"
#include "kiln/tensor.hpp"

namespace kiln {

class Loss {
 public:
  virtual ~Loss() = default;
  virtual std::string name() const = 0;  // Keras name: "sparse_categorical_crossentropy"
  // Sum over the batch of per-sample losses for outputs (B,C) and labels (B).
  virtual double forward(const Tensor& out, const int32_t* labels) const = 0;
  // grad (B,C) = d(sum of losses / scale)/d(out); with fuse_softmax, the gradient with respect to
  // the softmax's input instead (only if can_fuse_softmax()).
  virtual void backward(const Tensor& out, const int32_t* labels, float scale, Tensor& grad,
                        bool fuse_softmax) const = 0;
  // Whether the loss takes probabilities that a softmax produced, so the two can be fused.
  virtual bool can_fuse_softmax() const { return false; }
  virtual nlohmann::json config() const = 0;
};

namespace losses {

struct SparseCategoricalCrossentropyOptions {
  bool from_logits = false;
};

// -log(p[label]); from_logits applies the softmax itself.
class SparseCategoricalCrossentropy : public Loss {
 public:
  SparseCategoricalCrossentropy(SparseCategoricalCrossentropyOptions options = {})
      : options_(options) {}
  std::string name() const override { return "sparse_categorical_crossentropy"; }
  double forward(const Tensor& out, const int32_t* labels) const override;
  void backward(const Tensor& out, const int32_t* labels, float scale, Tensor& grad,
                bool fuse_softmax) const override;
  bool can_fuse_softmax() const override { return !options_.from_logits; }
  nlohmann::json config() const override;

 private:
  SparseCategoricalCrossentropyOptions options_;
};

// Builds a loss from its Keras name or config ({"class_name": ..., "config": {...}}).
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
