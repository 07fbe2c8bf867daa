// The Layer interface, and LayerRef, the handle models hold layers by.
// A layer maps a batch of per-sample tensors of one shape to a batch of another. Its weights live
// in the model's arenas: build() declares them, the model points them at arena memory.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "kiln/mixed_precision.hpp"
#include "kiln/ref.hpp"
#include "kiln/tensor.hpp"

namespace kiln {

// Keras initializer names: "glorot_uniform", "zeros", "ones", "he_normal", ...
struct Initializer {
  std::string name = "glorot_uniform";
};

// A weight a layer owns: its name ("kernel"), shape, initializer, and (once the model has
// planned its arenas) views of its value and gradient.
struct Param {
  std::string name;
  Shape shape;
  Initializer initializer;
  Tensor value;
  Tensor grad;
};

// What a forward or backward pass needs to know beyond its tensors.
struct Context {
  bool training = false;
  // Set by the model when the loss has already produced the gradient with respect to the last
  // layer's pre-activation (softmax fused with cross-entropy).
  bool grad_is_preactivation = false;
  // Whether weight gradients add to what the gradient arena holds (true), or replace it (false:
  // the first backward pass since the optimizer's last step, so nothing needs zeroing).
  bool accumulate = true;
  // When positive, the optimizer is plain SGD with this learning rate and the layer applies the
  // step itself as it produces each weight gradient (value -= rate * gradient), leaving
  // param.grad untouched. It must read any weight it needs for grad_in before updating it.
  float sgd_learning_rate = 0.0f;
};

class Layer {
 public:
  virtual ~Layer() = default;

  // The Keras class name, as config.json records it ("Dense").
  virtual std::string class_name() const = 0;
  // Declares the weights for a per-sample input shape and returns the per-sample output shape;
  // throws ShapeError if the input does not fit.
  virtual Shape build(const Shape& input_shape) = 0;
  // out = f(in), both batches (first axis the batch).
  virtual void forward(const Context& ctx, const Tensor& in, Tensor& out) = 0;
  // Given in, out and grad_out, adds weight gradients to param.grad (or writes them, when
  // ctx.accumulate is false) and writes grad_in unless it is null (the first layer needs none).
  // grad_out may be overwritten.
  virtual void backward(const Context& ctx, const Tensor& in, const Tensor& out, Tensor& grad_out,
                        Tensor* grad_in) = 0;
  // The layer's Keras config ("units", "activation", ...), without "name".
  virtual nlohmann::json config() const = 0;
  // Whether backward honours Context::sgd_learning_rate (a layer without weights has nothing to
  // update).
  virtual bool applies_sgd_in_backward() const { return params_.empty(); }
  // Whether the output is the input's values in the same order under another shape (Flatten):
  // the model then passes the input's memory on as the output, and the output gradient back as
  // the input gradient, without calling forward or backward.
  virtual bool is_reshape() const { return false; }
  // The activation applied last, for the model to fuse softmax with cross-entropy.
  virtual std::string output_activation() const { return "linear"; }
  // The per-sample input shape the layer was created with, if any (Flatten(input_shape)).
  virtual Shape declared_input_shape() const { return {}; }

  std::vector<Param>& params() { return params_; }
  const std::vector<Param>& params() const { return params_; }
  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }
  // The Keras dtype policy ("float32", "mixed_bfloat16"): the global one when the layer was
  // created, unless set since. Throws ValueError for a policy kiln does not know.
  const std::string& dtype_policy() const { return dtype_policy_; }
  void set_dtype_policy(const std::string& policy) { dtype_policy_ = mixed_precision::check_policy(policy); }
  bool mixed_bfloat16() const { return dtype_policy_ == "mixed_bfloat16"; }
  const Shape& input_shape() const { return input_shape_; }
  const Shape& output_shape() const { return output_shape_; }
  // Builds the layer and records its shapes; called by the model.
  Shape build_once(const Shape& input_shape);

 protected:
  std::vector<Param> params_;

 private:
  std::string name_;
  std::string dtype_policy_ = mixed_precision::global_policy();
  Shape input_shape_, output_shape_;
};

// A shared handle to a layer, so that Sequential({Flatten({28, 28}), Dense(300, "relu")})
// reads like Keras.
using LayerRef = Ref<Layer>;

}  // namespace kiln
