#include "kiln/layers/normalization.hpp"

namespace kiln::layers {

namespace impl {

Dropout::Dropout(double rate, bool spatial) : rate_(rate), spatial_(spatial) {
  if (!(rate >= 0 && rate < 1))
    throw ValueError(class_name() + ": rate must be in [0, 1), received rate=" + std::to_string(rate));
}

Shape Dropout::build(std::span<const Shape> input_shapes) {
  const Shape& input = single_input(input_shapes);
  if (spatial_) require_image(input);
  entries_ = spatial_ ? input[2] : shape_size(input);
  return input;
}

Workspace Dropout::workspace(int64_t batch, bool training) const {
  return {.scratch = 0, .saved = training ? batch * entries_ : 0};
}

void Dropout::forward(const Context& ctx, std::span<const Tensor* const> inputs, Tensor& out) {
  const Tensor& in = *inputs[0];
  if (!ctx.training || rate_ == 0) {
    std::copy_n(in.data(), in.size(), out.data());
    return;
  }
  // The mask holds each entry's factor: 0 or 1 / (1 - rate).
  const int64_t B = in.dim(0), per_sample = in.row_size(), C = entries_;
  const auto keep = static_cast<float>(1.0 - rate_), scale = 1.0f / keep;
  float* mask = ctx.saved.data();
  for (int64_t i = 0; i < B * C; ++i) mask[i] = ctx.random.uniform(static_cast<uint64_t>(i)) < keep ? scale : 0.0f;
  for (int64_t b = 0; b < B; ++b) {
    const float* x = in.data() + b * per_sample;
    const float* m = mask + b * C;
    float* y = out.data() + b * per_sample;
    for (int64_t j = 0; j < per_sample; ++j) y[j] = x[j] * m[spatial_ ? j % C : j];
  }
}

void Dropout::backward(const Context& ctx, std::span<const Tensor* const>, const Tensor&, Tensor& grad_out,
                       std::span<const InputGrad> grad_inputs) {
  const InputGrad& gin = grad_inputs[0];
  if (!gin.tensor) return;
  if (rate_ == 0) return store_input_grad(gin, grad_out.data(), grad_out.size());
  const int64_t B = grad_out.dim(0), per_sample = grad_out.row_size(), C = entries_;
  const float* mask = ctx.saved.data();
  for (int64_t b = 0; b < B; ++b) {
    float* g = grad_out.data() + b * per_sample;
    const float* m = mask + b * C;
    for (int64_t j = 0; j < per_sample; ++j) g[j] *= m[spatial_ ? j % C : j];
  }
  store_input_grad(gin, grad_out.data(), grad_out.size());
}

nlohmann::json Dropout::config() const {
  return {{"rate", rate_}, {"noise_shape", nullptr}, {"seed", nullptr}};
}

}  // namespace impl

Dropout::Dropout(double rate) : LayerHandle(std::make_shared<impl::Dropout>(rate, false)) {}
SpatialDropout2D::SpatialDropout2D(double rate) : LayerHandle(std::make_shared<impl::Dropout>(rate, true)) {}

}  // namespace kiln::layers
