// The core layers: InputLayer, Flatten and Dense. Each is a handle (layers::Dense) to its
// implementation (layers::impl::Dense); copies of a handle are one layer.
#pragma once

#include <string>

#include "kiln/layers/layer.hpp"
#include "kiln/regularizers.hpp"

namespace kiln::layers {

struct FlattenOptions {
  Shape input_shape;  // per sample, e.g. {28, 28}; optional
};

struct DenseOptions {
  int64_t units = 0;
  std::string activation = "linear";
  bool use_bias = true;
  std::string kernel_initializer = "glorot_uniform";
  std::string bias_initializer = "zeros";
  RegularizerRef kernel_regularizer;  // none by default; "l2", regularizers::L2(1e-4), ...
  RegularizerRef bias_regularizer;
  Shape input_shape;  // optional, as Keras's input_shape=
  std::string dtype;  // the dtype policy to create the layer with; empty: the global policy
};

namespace impl {

// The source of a model input: holds its per-sample shape and computes nothing.
class InputLayer : public Layer {
 public:
  explicit InputLayer(Shape shape) : shape_(std::move(shape)) {}
  std::string class_name() const override { return "InputLayer"; }
  Shape build(std::span<const Shape> input_shapes) override;
  void forward(const Context&, std::span<const Tensor* const>, Tensor&) override {}
  void backward(const Context&, std::span<const Tensor* const>, const Tensor&, Tensor&,
                std::span<const InputGrad>) override {}
  nlohmann::json config() const override;
  const Shape& shape() const { return shape_; }

 private:
  Shape shape_;
};

// Reshapes each sample to one axis: (B, 28, 28) -> (B, 784).
class Flatten : public Layer {
 public:
  explicit Flatten(FlattenOptions options) : options_(std::move(options)) {}
  std::string class_name() const override { return "Flatten"; }
  Shape build(std::span<const Shape> input_shapes) override;
  void forward(const Context& ctx, std::span<const Tensor* const> inputs, Tensor& out) override;
  void backward(const Context& ctx, std::span<const Tensor* const> inputs, const Tensor& out, Tensor& grad_out,
                std::span<const InputGrad> grad_inputs) override;
  nlohmann::json config() const override;
  Shape declared_input_shape() const override { return options_.input_shape; }
  bool is_reshape() const override { return true; }
  bool backward_reads_inputs() const override { return false; }
  bool backward_reads_output() const override { return false; }

 private:
  FlattenOptions options_;
};

// out = activation(in · kernel + bias); kernel shaped [inputs, units] as in Keras.
class Dense : public Layer {
 public:
  explicit Dense(DenseOptions options);
  std::string class_name() const override { return "Dense"; }
  Shape build(std::span<const Shape> input_shapes) override;
  void forward(const Context& ctx, std::span<const Tensor* const> inputs, Tensor& out) override;
  void backward(const Context& ctx, std::span<const Tensor* const> inputs, const Tensor& out, Tensor& grad_out,
                std::span<const InputGrad> grad_inputs) override;
  nlohmann::json config() const override;
  std::string output_activation() const override { return options_.activation; }
  bool can_fuse_step() const override { return true; }
  Shape declared_input_shape() const override { return options_.input_shape; }
  bool can_store_mapped() const override;
  void start_map(ChannelMap& map) const override;
  void forward_mapped(const Context& ctx, std::span<const Tensor* const> inputs, Tensor& out,
                      const ChannelMap& map) override;
  const DenseOptions& options() const { return options_; }

 private:
  // The input's features per sample, which must be the kernel's rows (ShapeError otherwise).
  int64_t input_size(const Tensor& in) const;
  DenseOptions options_;
  int act_ = 0;  // cpu::Activation, kept opaque to the public header
};

}  // namespace impl

class InputLayer : public LayerHandle<impl::InputLayer> {
 public:
  explicit InputLayer(Shape shape);
};

class Flatten : public LayerHandle<impl::Flatten> {
 public:
  Flatten();
  Flatten(Shape input_shape);
  Flatten(FlattenOptions options);
};

class Dense : public LayerHandle<impl::Dense> {
 public:
  Dense(int64_t units, std::string activation = "linear");
  Dense(DenseOptions options);
};

}  // namespace kiln::layers
