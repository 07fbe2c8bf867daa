// The core layers: Flatten and Dense.
#pragma once

#include <string>

#include "kiln/layers/layer.hpp"

namespace kiln::layers {

struct FlattenOptions {
  Shape input_shape;  // per sample, e.g. {28, 28}; optional
};

// Reshapes each sample to one axis: (B, 28, 28) -> (B, 784).
class Flatten : public Layer {
 public:
  Flatten() = default;
  Flatten(Shape input_shape) : options_{std::move(input_shape)} {}
  Flatten(FlattenOptions options) : options_(std::move(options)) {}

  std::string class_name() const override { return "Flatten"; }
  Shape build(const Shape& input_shape) override;
  void forward(const Context& ctx, const Tensor& in, Tensor& out) override;
  void backward(const Context& ctx, const Tensor& in, const Tensor& out, Tensor& grad_out,
                Tensor* grad_in) override;
  nlohmann::json config() const override;
  Shape declared_input_shape() const override { return options_.input_shape; }
  bool is_reshape() const override { return true; }

 private:
  FlattenOptions options_;
};

struct DenseOptions {
  int64_t units = 0;
  std::string activation = "linear";
  bool use_bias = true;
  std::string kernel_initializer = "glorot_uniform";
  std::string bias_initializer = "zeros";
  Shape input_shape;  // optional, as Keras's input_shape=
  std::string dtype;  // the dtype policy to create the layer with; empty: the global policy
};

// out = activation(in · kernel + bias); kernel shaped [inputs, units] as in Keras.
class Dense : public Layer {
 public:
  Dense(int64_t units, std::string activation = "linear");
  Dense(DenseOptions options);

  std::string class_name() const override { return "Dense"; }
  Shape build(const Shape& input_shape) override;
  void forward(const Context& ctx, const Tensor& in, Tensor& out) override;
  void backward(const Context& ctx, const Tensor& in, const Tensor& out, Tensor& grad_out,
                Tensor* grad_in) override;
  nlohmann::json config() const override;
  std::string output_activation() const override { return options_.activation; }
  bool applies_sgd_in_backward() const override { return true; }
  Shape declared_input_shape() const override { return options_.input_shape; }
  const DenseOptions& options() const { return options_; }

 private:
  DenseOptions options_;
  int act_ = 0;  // cpu::Activation, kept opaque to the public header
};

}  // namespace kiln::layers
