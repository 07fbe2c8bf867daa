#include "kiln/layers/reshaping.hpp"

#include <algorithm>

#include "kernels/cpu/activations.hpp"
#include "kernels/cpu/thread_pool.hpp"

namespace kiln::layers {

namespace impl {

Activation::Activation(std::string activation)
    : act_(static_cast<int>(cpu::parse_activation(activation))) {
  activation_ = cpu::activation_name(static_cast<cpu::Activation>(act_));
}

void Activation::forward(const Context&, std::span<const Tensor* const> inputs, Tensor& out) {
  const Tensor& in = *inputs[0];
  std::copy_n(in.data(), in.size(), out.data());
  cpu::bias_activation_forward(out.data(), nullptr, static_cast<cpu::Activation>(act_), in.size() / in.row_size(),
                               in.row_size());
}

void Activation::backward(const Context& ctx, std::span<const Tensor* const>, const Tensor& out, Tensor& grad_out,
                          std::span<const InputGrad> grad_inputs) {
  if (!ctx.grad_is_preactivation)
    cpu::activation_backward(grad_out.data(), out.data(), static_cast<cpu::Activation>(act_),
                             out.size() / out.row_size(), out.row_size());
  store_input_grad(grad_inputs[0], grad_out.data(), grad_out.size());
}

nlohmann::json Activation::config() const { return {{"activation", activation_}}; }

MapKind Activation::channel_map() const {
  switch (static_cast<cpu::Activation>(act_)) {
    case cpu::Activation::kLinear: return MapKind::kAffine;
    case cpu::Activation::kRelu: return MapKind::kRelu;
    default: return MapKind::kNone;
  }
}

ReLU::ReLU(ReLUOptions options) : options_(options) {
  if (options_.max_value && *options_.max_value < 0)
    throw ValueError("ReLU: max_value must be at least 0, received " + std::to_string(*options_.max_value));
  if (options_.negative_slope < 0)
    throw ValueError("ReLU: negative_slope must be at least 0, received " + std::to_string(options_.negative_slope));
}

MapKind ReLU::channel_map() const {
  const bool plain = !options_.max_value && options_.negative_slope == 0 && options_.threshold == 0;
  return plain ? MapKind::kRelu : MapKind::kNone;
}

namespace {

cpu::ReluShape relu_shape(const ReLUOptions& o) {
  return {static_cast<float>(o.threshold), static_cast<float>(o.negative_slope),
          o.max_value ? static_cast<float>(*o.max_value) : INFINITY};
}

}  // namespace

void ReLU::forward(const Context&, std::span<const Tensor* const> inputs, Tensor& out) {
  cpu::relu_forward(out.data(), inputs[0]->data(), out.size(), relu_shape(options_));
}

void ReLU::backward(const Context&, std::span<const Tensor* const> inputs, const Tensor&, Tensor& grad_out,
                    std::span<const InputGrad> grad_inputs) {
  cpu::relu_backward(grad_out.data(), inputs[0]->data(), grad_out.size(), relu_shape(options_));
  store_input_grad(grad_inputs[0], grad_out.data(), grad_out.size());
}

nlohmann::json ReLU::config() const {
  return {{"max_value", options_.max_value ? nlohmann::json(*options_.max_value) : nlohmann::json(nullptr)},
          {"negative_slope", options_.negative_slope},
          {"threshold", options_.threshold}};
}

Reshape::Reshape(Shape target_shape) : target_(std::move(target_shape)) {
  if (std::count(target_.begin(), target_.end(), -1) > 1)
    throw ValueError("Reshape: at most one dimension may be -1, received " + shape_str(target_));
  for (int64_t d : target_)
    if (d == 0 || d < -1) throw ValueError("Reshape: dimensions must be positive or -1, received " + shape_str(target_));
}

Shape Reshape::build(std::span<const Shape> input_shapes) {
  const int64_t n = shape_size(single_input(input_shapes));
  Shape out = target_;
  int64_t known = 1;
  for (int64_t d : out)
    if (d > 0) known *= d;
  for (auto& d : out)
    if (d == -1) d = known > 0 && n % known == 0 ? n / known : 0;
  if (shape_size(out) != n || std::count(out.begin(), out.end(), 0) > 0)
    throw ShapeError("Reshape '" + name() + "': cannot reshape " + shape_str(input_shapes[0]) + " (" +
                     std::to_string(n) + " values) to " + shape_str(target_));
  return out;
}

void Reshape::forward(const Context&, std::span<const Tensor* const> inputs, Tensor& out) {
  std::copy_n(inputs[0]->data(), inputs[0]->size(), out.data());
}

void Reshape::backward(const Context&, std::span<const Tensor* const>, const Tensor&, Tensor& grad_out,
                       std::span<const InputGrad> grad_inputs) {
  store_input_grad(grad_inputs[0], grad_out.data(), grad_out.size());
}

nlohmann::json Reshape::config() const { return {{"target_shape", target_}}; }

ZeroPadding2D::ZeroPadding2D(Padding2D padding) : padding_(padding) {
  if (padding_.top < 0 || padding_.bottom < 0 || padding_.left < 0 || padding_.right < 0)
    throw ValueError("ZeroPadding2D: padding must not be negative, received ((" + std::to_string(padding_.top) + ", " +
                     std::to_string(padding_.bottom) + "), (" + std::to_string(padding_.left) + ", " +
                     std::to_string(padding_.right) + "))");
}

Shape ZeroPadding2D::build(std::span<const Shape> input_shapes) {
  const Shape& in = single_input(input_shapes);
  require_image(in);
  return {in[0] + padding_.top + padding_.bottom, in[1] + padding_.left + padding_.right, in[2]};
}

namespace {
// Calls fn(input_offset, output_offset, n) for each image row's run of values.
template <typename Fn>
void padded_rows(const Shape& in, const Padding2D& p, int64_t B, Fn&& fn) {
  const int64_t H = in[0], W = in[1], C = in[2], OW = W + p.left + p.right, OH = H + p.top + p.bottom;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h) fn(((b * H + h) * W) * C, ((b * OH + h + p.top) * OW + p.left) * C, W * C);
}
}  // namespace

void ZeroPadding2D::forward(const Context&, std::span<const Tensor* const> inputs, Tensor& out) {
  std::fill_n(out.data(), out.size(), 0.0f);
  const float* x = inputs[0]->data();
  padded_rows(input_shapes()[0], padding_, inputs[0]->dim(0),
              [&](int64_t from, int64_t to, int64_t n) { std::copy_n(x + from, n, out.data() + to); });
}

void ZeroPadding2D::backward(const Context&, std::span<const Tensor* const>, const Tensor&, Tensor& grad_out,
                             std::span<const InputGrad> grad_inputs) {
  const InputGrad& gin = grad_inputs[0];
  if (!gin.tensor) return;
  float* dx = gin.tensor->data();
  const float* g = grad_out.data();
  padded_rows(input_shapes()[0], padding_, gin.tensor->dim(0), [&](int64_t from, int64_t to, int64_t n) {
    for (int64_t i = 0; i < n; ++i) dx[from + i] = gin.accumulate ? dx[from + i] + g[to + i] : g[to + i];
  });
}

nlohmann::json ZeroPadding2D::config() const {
  return {{"padding", {{padding_.top, padding_.bottom}, {padding_.left, padding_.right}}},
          {"data_format", "channels_last"}};
}

void Rescaling::forward(const Context&, std::span<const Tensor* const> inputs, Tensor& out) {
  const float* x = inputs[0]->data();
  const auto s = static_cast<float>(scale_), o = static_cast<float>(offset_);
  float* y = out.data();
  for (int64_t i = 0, n = out.size(); i < n; ++i) y[i] = x[i] * s + o;
}

void Rescaling::backward(const Context&, std::span<const Tensor* const>, const Tensor&, Tensor& grad_out,
                         std::span<const InputGrad> grad_inputs) {
  const auto s = static_cast<float>(scale_);
  float* g = grad_out.data();
  for (int64_t i = 0, n = grad_out.size(); i < n; ++i) g[i] *= s;
  store_input_grad(grad_inputs[0], grad_out.data(), grad_out.size());
}

nlohmann::json Rescaling::config() const { return {{"scale", scale_}, {"offset", offset_}}; }

}  // namespace impl

Activation::Activation(std::string activation) : LayerHandle(std::make_shared<impl::Activation>(std::move(activation))) {}
ReLU::ReLU() : ReLU(ReLUOptions{}) {}
ReLU::ReLU(ReLUOptions options) : LayerHandle(std::make_shared<impl::ReLU>(options)) {}
Reshape::Reshape(Shape target_shape) : LayerHandle(std::make_shared<impl::Reshape>(std::move(target_shape))) {}
ZeroPadding2D::ZeroPadding2D(Padding2D padding) : LayerHandle(std::make_shared<impl::ZeroPadding2D>(padding)) {}
Rescaling::Rescaling(double scale, double offset) : LayerHandle(std::make_shared<impl::Rescaling>(scale, offset)) {}

}  // namespace kiln::layers
