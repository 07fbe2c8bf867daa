// Convolution and pooling over channels-last images (N, H, W, C), with Keras's names, arguments
// and defaults: Conv2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D,
// GlobalMaxPooling2D.
#pragma once

#include <string>

#include "kiln/layers/layer.hpp"
#include "kiln/regularizers.hpp"

namespace kiln::layers {

// A size or step along the two image axes: `3` is {3, 3}.
struct Size2 {
  int64_t h = 1, w = 1;
  Size2() = default;
  Size2(int64_t n) : h(n), w(n) {}  // NOLINT: Keras accepts an int for both axes
  Size2(int64_t h_, int64_t w_) : h(h_), w(w_) {}
  bool operator==(const Size2&) const = default;
};

struct Conv2DOptions {
  int64_t filters = 0;
  Size2 kernel_size = 3;
  Size2 strides = 1;
  std::string padding = "valid";  // or "same"
  Size2 dilation_rate = 1;
  std::string activation = "linear";
  bool use_bias = true;
  std::string kernel_initializer = "glorot_uniform";
  std::string bias_initializer = "zeros";
  RegularizerRef kernel_regularizer;  // none by default; "l2", regularizers::L2(1e-4), ...
  RegularizerRef bias_regularizer;
  Shape input_shape;  // optional, (H, W, C)
  std::string dtype;  // the dtype policy to create the layer with; empty: the global policy
};

struct Pooling2DOptions {
  Size2 pool_size = 2;
  Size2 strides = 0;  // 0: pool_size, as Keras's strides=None
  std::string padding = "valid";
  Shape input_shape;
};

namespace impl {

struct WindowState;  // the kernel's geometry, kept opaque to the public header

// out = activation(conv(in, kernel) + bias); kernel shaped [kh, kw, in, filters] as in Keras.
// Each output position's window is gathered into a row (im2col) and multiplied by the kernel
// with the same product Dense uses; backward runs the two products and scatters the window
// gradients back (col2im).
class Conv2D : public Layer {
 public:
  explicit Conv2D(Conv2DOptions options);
  ~Conv2D() override;
  std::string class_name() const override { return "Conv2D"; }
  Shape build(std::span<const Shape> input_shapes) override;
  void forward(const Context& ctx, std::span<const Tensor* const> inputs, Tensor& out) override;
  void backward(const Context& ctx, std::span<const Tensor* const> inputs, const Tensor& out, Tensor& grad_out,
                std::span<const InputGrad> grad_inputs) override;
  nlohmann::json config() const override;
  Workspace workspace(int64_t batch, bool training) const override;
  std::string output_activation() const override { return options_.activation; }
  bool can_fuse_step() const override { return true; }
  Shape declared_input_shape() const override { return options_.input_shape; }
  bool can_store_mapped() const override;
  void start_map(ChannelMap& map) const override;
  void forward_mapped(const Context& ctx, std::span<const Tensor* const> inputs, Tensor& out,
                      const ChannelMap& map) override;
  const Conv2DOptions& options() const { return options_; }

 private:
  // The forward pass, storing through `map` (folded layers) or the own bias and activation.
  void forward_product(const Context& ctx, const Tensor& in, Tensor& out, const ChannelMap* map);
  bool reads_in_place(bool training) const;  // whether forward reads windows from the image
  bool weight_grad_transposed() const;       // whether backward computes the kernel gradient transposed
  Conv2DOptions options_;
  int act_ = 0;
  std::unique_ptr<WindowState> window_;
};

// Max or average over each pool_size window, each channel on its own.
class Pooling2D : public Layer {
 public:
  Pooling2D(bool max, Pooling2DOptions options);
  ~Pooling2D() override;
  std::string class_name() const override { return max_ ? "MaxPooling2D" : "AveragePooling2D"; }
  Shape build(std::span<const Shape> input_shapes) override;
  void forward(const Context& ctx, std::span<const Tensor* const> inputs, Tensor& out) override;
  void backward(const Context& ctx, std::span<const Tensor* const> inputs, const Tensor& out, Tensor& grad_out,
                std::span<const InputGrad> grad_inputs) override;
  nlohmann::json config() const override;
  // A max pool saves where each maximum came from; backward reads neither tensor.
  Workspace workspace(int64_t batch, bool training) const override;
  bool backward_reads_inputs() const override { return false; }
  bool backward_reads_output() const override { return false; }
  Shape declared_input_shape() const override { return options_.input_shape; }
  const Pooling2DOptions& options() const { return options_; }

 private:
  bool max_;
  Pooling2DOptions options_;
  std::unique_ptr<WindowState> window_;
};

// Max or average over all positions of each channel: (H, W, C) -> (C).
class GlobalPooling2D : public Layer {
 public:
  explicit GlobalPooling2D(bool max) : max_(max) {}
  std::string class_name() const override { return max_ ? "GlobalMaxPooling2D" : "GlobalAveragePooling2D"; }
  Shape build(std::span<const Shape> input_shapes) override;
  void forward(const Context& ctx, std::span<const Tensor* const> inputs, Tensor& out) override;
  void backward(const Context& ctx, std::span<const Tensor* const> inputs, const Tensor& out, Tensor& grad_out,
                std::span<const InputGrad> grad_inputs) override;
  nlohmann::json config() const override;
  bool backward_reads_inputs() const override { return max_; }
  bool backward_reads_output() const override { return max_; }

 private:
  bool max_;
};

}  // namespace impl

class Conv2D : public LayerHandle<impl::Conv2D> {
 public:
  Conv2D(int64_t filters, Size2 kernel_size, std::string activation = "linear");
  Conv2D(Conv2DOptions options);
};

class MaxPooling2D : public LayerHandle<impl::Pooling2D> {
 public:
  MaxPooling2D(Size2 pool_size = 2);
  MaxPooling2D(Pooling2DOptions options);
};

class AveragePooling2D : public LayerHandle<impl::Pooling2D> {
 public:
  AveragePooling2D(Size2 pool_size = 2);
  AveragePooling2D(Pooling2DOptions options);
};

class GlobalAveragePooling2D : public LayerHandle<impl::GlobalPooling2D> {
 public:
  GlobalAveragePooling2D();
};

class GlobalMaxPooling2D : public LayerHandle<impl::GlobalPooling2D> {
 public:
  GlobalMaxPooling2D();
};

}  // namespace kiln::layers
