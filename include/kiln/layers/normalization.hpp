// BatchNormalization, Dropout and SpatialDropout2D: the layers that behave differently in fit
// than in evaluate and predict.
#pragma once

#include "kiln/layers/layer.hpp"

namespace kiln::layers {

struct BatchNormalizationOptions {
  int axis = -1;  // the features axis; kiln normalizes the last one
  double momentum = 0.99;
  double epsilon = 1e-3;
  bool center = true;  // learn beta
  bool scale = true;   // learn gamma
  std::string beta_initializer = "zeros";
  std::string gamma_initializer = "ones";
  std::string moving_mean_initializer = "zeros";
  std::string moving_variance_initializer = "ones";
};

namespace impl {

// y = gamma * (x - mean) / sqrt(variance + epsilon) + beta, per feature (the last axis). In fit
// the mean and variance are the batch's (over every other axis), and the moving values follow
// Keras's rule: moving = moving * momentum + batch * (1 - momentum), with the batch's biased
// variance. In evaluate and predict, and in fit when the layer is frozen (trainable = false, as
// Keras does since TensorFlow 2), the moving values are used.
class BatchNormalization : public Layer {
 public:
  explicit BatchNormalization(BatchNormalizationOptions options);
  std::string class_name() const override { return "BatchNormalization"; }
  Shape build(std::span<const Shape> input_shapes) override;
  void forward(const Context& ctx, std::span<const Tensor* const> inputs, Tensor& out) override;
  void backward(const Context& ctx, std::span<const Tensor* const> inputs, const Tensor& out, Tensor& grad_out,
                std::span<const InputGrad> grad_inputs) override;
  nlohmann::json config() const override;
  Workspace workspace(int64_t batch, bool training) const override;
  bool backward_reads_output() const override { return false; }
  bool can_fuse_step() const override { return true; }
  MapKind channel_map() const override { return MapKind::kAffine; }
  void compose_map(ChannelMap& map) const override;
  const BatchNormalizationOptions& options() const { return options_; }
  // The features (the last axis) and the positions per sample (the other axes).
  int64_t features() const { return features_; }

 private:
  Param* find(const char* name);  // gamma or beta; null when the layer has none
  const Param* find(const char* name) const;
  // The inference map of feature f: y = x * a + b, from the moving statistics.
  std::pair<float, float> inference_affine(int64_t f) const;
  BatchNormalizationOptions options_;
  int64_t features_ = 0, positions_ = 0;
};

// Inverted dropout: in fit, each value (Dropout) or each channel of each image
// (SpatialDropout2D) is zeroed with probability rate and the others scaled by 1 / (1 - rate);
// the identity in evaluate and predict. The masks come from the model's random stream: the
// same for a seed and step, different at every step.
class Dropout : public Layer {
 public:
  Dropout(double rate, bool spatial);
  std::string class_name() const override { return spatial_ ? "SpatialDropout2D" : "Dropout"; }
  Shape build(std::span<const Shape> input_shapes) override;
  void forward(const Context& ctx, std::span<const Tensor* const> inputs, Tensor& out) override;
  void backward(const Context& ctx, std::span<const Tensor* const> inputs, const Tensor& out, Tensor& grad_out,
                std::span<const InputGrad> grad_inputs) override;
  nlohmann::json config() const override;
  Workspace workspace(int64_t batch, bool training) const override;
  bool backward_reads_inputs() const override { return false; }
  bool backward_reads_output() const override { return false; }
  double rate() const { return rate_; }

 private:
  // Mask entries per sample (the channels, for SpatialDropout2D).
  int64_t entries_ = 0;
  double rate_;
  bool spatial_;
};

}  // namespace impl

class BatchNormalization : public LayerHandle<impl::BatchNormalization> {
 public:
  BatchNormalization();
  BatchNormalization(BatchNormalizationOptions options);
};

class Dropout : public LayerHandle<impl::Dropout> {
 public:
  explicit Dropout(double rate);
};

class SpatialDropout2D : public LayerHandle<impl::Dropout> {
 public:
  explicit SpatialDropout2D(double rate);
};

}  // namespace kiln::layers
