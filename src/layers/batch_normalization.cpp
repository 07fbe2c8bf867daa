#include <cmath>
#include <cstring>
#include <tuple>
#include <utility>

#include "kernels/cpu/batch_norm.hpp"
#include "kiln/initializers.hpp"
#include "kiln/layers/normalization.hpp"
#include "layers/kernel_layer.hpp"

namespace kiln::layers {

namespace impl {

BatchNormalization::BatchNormalization(BatchNormalizationOptions options) : options_(std::move(options)) {
  const std::string me = "BatchNormalization";
  if (!(options_.momentum >= 0 && options_.momentum <= 1))
    throw ValueError(me + ": momentum must be in [0, 1], received " + std::to_string(options_.momentum));
  if (!(options_.epsilon > 0))
    throw ValueError(me + ": epsilon must be positive, received " + std::to_string(options_.epsilon));
  for (const auto* init : {&options_.beta_initializer, &options_.gamma_initializer, &options_.moving_mean_initializer,
                           &options_.moving_variance_initializer})
    initializers::to_config(*init);
}

Shape BatchNormalization::build(std::span<const Shape> input_shapes) {
  const Shape& input = single_input(input_shapes);
  const auto rank = static_cast<int>(input.size()) + 1;  // with the batch axis
  if (options_.axis != -1 && options_.axis != rank - 1)
    throw ShapeError("BatchNormalization '" + name() + "': kiln normalizes the last axis (axis=-1 or " +
                     std::to_string(rank - 1) + " for inputs of rank " + std::to_string(rank) + "), received axis=" +
                     std::to_string(options_.axis));
  if (input.empty()) throw ShapeError("BatchNormalization '" + name() + "' needs inputs with a features axis");
  features_ = input.back();
  positions_ = shape_size(input) / features_;
  if (options_.scale) params_.push_back({"gamma", {features_}, {options_.gamma_initializer}});
  if (options_.center) params_.push_back({"beta", {features_}, {options_.beta_initializer}});
  params_.push_back({"moving_mean", {features_}, {options_.moving_mean_initializer}, false});
  params_.push_back({"moving_variance", {features_}, {options_.moving_variance_initializer}, false});
  return input;
}

Param* BatchNormalization::find(const char* name) {
  return const_cast<Param*>(std::as_const(*this).find(name));
}

const Param* BatchNormalization::find(const char* name) const {
  for (const auto& p : params_)
    if (p.name == name) return &p;
  return nullptr;
}

std::pair<float, float> BatchNormalization::inference_affine(int64_t f) const {
  const Param* gamma = find("gamma");
  const Param* beta = find("beta");
  const float moving_mean = params_[params_.size() - 2].value[f], moving_var = params_.back().value[f];
  const float a = (gamma ? gamma->value[f] : 1.0f) / std::sqrt(moving_var + static_cast<float>(options_.epsilon));
  return {a, (beta ? beta->value[f] : 0.0f) - moving_mean * a};
}

void BatchNormalization::compose_map(ChannelMap& map) const {
  for (int64_t f = 0; f < features_; ++f) {
    auto [a, b] = inference_affine(f);
    map.scale[f] *= a;
    map.shift[f] = map.shift[f] * a + b;
  }
}

// saved: the batch's mean and inv_std (2F); scratch: the sums' room first (batch_norm_scratch,
// an even count, so the doubles stay aligned), then the variance, a and b (3F).
Workspace BatchNormalization::workspace(int64_t batch, bool training) const {
  return {.scratch = cpu::batch_norm_scratch(batch * positions_, features_) + 3 * features_,
          .saved = training ? 2 * features_ : 0};
}

void BatchNormalization::forward(const Context& ctx, std::span<const Tensor* const> inputs, Tensor& out) {
  const Tensor& in = *inputs[0];
  const int64_t F = features_, N = in.dim(0) * positions_;
  const Param* gamma = find("gamma");
  const Param* beta = find("beta");
  float* moving_mean = params_[params_.size() - 2].value.data();
  float* moving_var = params_.back().value.data();
  float* sums = ctx.scratch.data();
  float* variance = sums + cpu::batch_norm_scratch(N, F);
  float* a = variance + F;
  float* b = variance + 2 * F;
  const auto eps = static_cast<float>(options_.epsilon);
  if (ctx.training && trainable) {
    float* mean = ctx.saved.data();
    float* inv_std = ctx.saved.data() + F;
    cpu::batch_norm_statistics(mean, variance, inv_std, in.data(), N, F, eps, sums);
    const auto m = static_cast<float>(options_.momentum);
    for (int64_t f = 0; f < F; ++f) {
      moving_mean[f] = moving_mean[f] * m + mean[f] * (1 - m);
      moving_var[f] = moving_var[f] * m + variance[f] * (1 - m);
      a[f] = (gamma ? gamma->value[f] : 1.0f) * inv_std[f];
      b[f] = (beta ? beta->value[f] : 0.0f) - mean[f] * a[f];
    }
  } else {
    for (int64_t f = 0; f < F; ++f) std::tie(a[f], b[f]) = inference_affine(f);
  }
  cpu::batch_norm_apply(out.data(), in.data(), a, b, N, F);
}

void BatchNormalization::backward(const Context& ctx, std::span<const Tensor* const> inputs, const Tensor&,
                                  Tensor& grad_out, std::span<const InputGrad> grad_inputs) {
  const Tensor& in = *inputs[0];
  const int64_t F = features_, N = in.dim(0) * positions_;
  const InputGrad& gin = grad_inputs[0];
  Param* gamma = find("gamma");
  Param* beta = find("beta");
  if (!trainable) {
    // Frozen: the forward pass was the inference one, an affine map per feature.
    if (!gin.tensor) return;
    float* a = ctx.scratch.data();
    for (int64_t f = 0; f < F; ++f) a[f] = inference_affine(f).first;
    float* dx = gin.tensor->data();
    for (int64_t i = 0; i < N; ++i)
      for (int64_t f = 0; f < F; ++f) {
        const float g = grad_out[i * F + f] * a[f];
        dx[i * F + f] = gin.accumulate ? dx[i * F + f] + g : g;
      }
    return;
  }
  cpu::batch_norm_backward(gin.tensor ? gin.tensor->data() : nullptr, gin.accumulate, grad_target(ctx, gamma),
                           grad_target(ctx, beta), grad_out.data(), in.data(), ctx.saved.data(),
                           ctx.saved.data() + F, gamma ? gamma->value.data() : nullptr, N, F, grad_alpha(ctx),
                           grad_accumulates(ctx), ctx.scratch.data());
}

nlohmann::json BatchNormalization::config() const {
  using initializers::to_config;
  return {{"axis", options_.axis},
          {"momentum", options_.momentum},
          {"epsilon", options_.epsilon},
          {"center", options_.center},
          {"scale", options_.scale},
          {"beta_initializer", to_config(options_.beta_initializer)},
          {"gamma_initializer", to_config(options_.gamma_initializer)},
          {"moving_mean_initializer", to_config(options_.moving_mean_initializer)},
          {"moving_variance_initializer", to_config(options_.moving_variance_initializer)},
          {"beta_regularizer", nullptr},
          {"gamma_regularizer", nullptr},
          {"beta_constraint", nullptr},
          {"gamma_constraint", nullptr}};
}

}  // namespace impl

BatchNormalization::BatchNormalization() : BatchNormalization(BatchNormalizationOptions{}) {}
BatchNormalization::BatchNormalization(BatchNormalizationOptions options)
    : LayerHandle(std::make_shared<impl::BatchNormalization>(std::move(options))) {}

}  // namespace kiln::layers
