// Layers that reshape, pad, rescale or activate without weights: Activation, ReLU, Reshape,
// ZeroPadding2D, Rescaling.
#pragma once

#include <optional>

#include "kiln/layers/conv.hpp"
#include "kiln/layers/layer.hpp"

namespace kiln::layers {

struct ReLUOptions {
  std::optional<double> max_value;  // none: no ceiling
  double negative_slope = 0;
  double threshold = 0;
};

// Zeros around each image: top, bottom, left, right.
struct Padding2D {
  int64_t top = 1, bottom = 1, left = 1, right = 1;
  Padding2D() = default;
  Padding2D(int64_t n) : top(n), bottom(n), left(n), right(n) {}  // NOLINT: as Keras's padding=1
  Padding2D(int64_t h, int64_t w) : top(h), bottom(h), left(w), right(w) {}
  Padding2D(int64_t t, int64_t b, int64_t l, int64_t r) : top(t), bottom(b), left(l), right(r) {}
};

namespace impl {

// out = activation(in), by a Keras activation name ("relu", "softmax", ...).
class Activation : public Layer {
 public:
  explicit Activation(std::string activation);
  std::string class_name() const override { return "Activation"; }
  Shape build(std::span<const Shape> input_shapes) override { return single_input(input_shapes); }
  void forward(const Context& ctx, std::span<const Tensor* const> inputs, Tensor& out) override;
  void backward(const Context& ctx, std::span<const Tensor* const> inputs, const Tensor& out, Tensor& grad_out,
                std::span<const InputGrad> grad_inputs) override;
  nlohmann::json config() const override;
  bool backward_reads_inputs() const override { return false; }
  std::string output_activation() const override { return activation_; }
  MapKind channel_map() const override;

 private:
  std::string activation_;
  int act_ = 0;
};

// Keras's ReLU layer: x for x >= threshold (up to max_value), negative_slope * (x - threshold)
// below it.
class ReLU : public Layer {
 public:
  explicit ReLU(ReLUOptions options);
  std::string class_name() const override { return "ReLU"; }
  Shape build(std::span<const Shape> input_shapes) override { return single_input(input_shapes); }
  void forward(const Context& ctx, std::span<const Tensor* const> inputs, Tensor& out) override;
  void backward(const Context& ctx, std::span<const Tensor* const> inputs, const Tensor& out, Tensor& grad_out,
                std::span<const InputGrad> grad_inputs) override;
  nlohmann::json config() const override;
  bool backward_reads_output() const override { return false; }
  MapKind channel_map() const override;

 private:
  ReLUOptions options_;
};

// Each sample to target_shape (one entry may be -1: whatever the rest leaves).
class Reshape : public Layer {
 public:
  explicit Reshape(Shape target_shape);
  std::string class_name() const override { return "Reshape"; }
  Shape build(std::span<const Shape> input_shapes) override;
  void forward(const Context& ctx, std::span<const Tensor* const> inputs, Tensor& out) override;
  void backward(const Context& ctx, std::span<const Tensor* const> inputs, const Tensor& out, Tensor& grad_out,
                std::span<const InputGrad> grad_inputs) override;
  nlohmann::json config() const override;
  bool is_reshape() const override { return true; }
  bool backward_reads_inputs() const override { return false; }
  bool backward_reads_output() const override { return false; }

 private:
  Shape target_;
};

// Zeros around each image (H, W, C) -> (top + H + bottom, left + W + right, C).
class ZeroPadding2D : public Layer {
 public:
  explicit ZeroPadding2D(Padding2D padding);
  std::string class_name() const override { return "ZeroPadding2D"; }
  Shape build(std::span<const Shape> input_shapes) override;
  void forward(const Context& ctx, std::span<const Tensor* const> inputs, Tensor& out) override;
  void backward(const Context& ctx, std::span<const Tensor* const> inputs, const Tensor& out, Tensor& grad_out,
                std::span<const InputGrad> grad_inputs) override;
  nlohmann::json config() const override;
  bool backward_reads_inputs() const override { return false; }
  bool backward_reads_output() const override { return false; }

 private:
  Padding2D padding_;
};

// out = in * scale + offset (Keras's preprocessing layer: Rescaling(1.0 / 255)).
class Rescaling : public Layer {
 public:
  Rescaling(double scale, double offset) : scale_(scale), offset_(offset) {}
  std::string class_name() const override { return "Rescaling"; }
  Shape build(std::span<const Shape> input_shapes) override { return single_input(input_shapes); }
  void forward(const Context& ctx, std::span<const Tensor* const> inputs, Tensor& out) override;
  void backward(const Context& ctx, std::span<const Tensor* const> inputs, const Tensor& out, Tensor& grad_out,
                std::span<const InputGrad> grad_inputs) override;
  nlohmann::json config() const override;
  bool backward_reads_inputs() const override { return false; }
  bool backward_reads_output() const override { return false; }

 private:
  double scale_, offset_;
};

}  // namespace impl

class Activation : public LayerHandle<impl::Activation> {
 public:
  explicit Activation(std::string activation);
};

class ReLU : public LayerHandle<impl::ReLU> {
 public:
  ReLU();
  ReLU(ReLUOptions options);
};

class Reshape : public LayerHandle<impl::Reshape> {
 public:
  explicit Reshape(Shape target_shape);
};

class ZeroPadding2D : public LayerHandle<impl::ZeroPadding2D> {
 public:
  ZeroPadding2D(Padding2D padding = {});
};

class Rescaling : public LayerHandle<impl::Rescaling> {
 public:
  explicit Rescaling(double scale, double offset = 0.0);
};

}  // namespace kiln::layers
