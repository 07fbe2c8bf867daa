#include "kernels/cpu/dense.hpp"
#include "layers/kernel_layer.hpp"

#include "kiln/initializers.hpp"
#include "kiln/layers/core.hpp"

namespace kiln::layers {

namespace impl {

Dense::Dense(DenseOptions options) : options_(std::move(options)) {
  if (options_.units <= 0)
    throw ValueError("Dense: units must be a positive integer, received units=" +
                     std::to_string(options_.units));
  act_ = static_cast<int>(cpu::parse_activation(options_.activation));
  options_.activation = cpu::activation_name(activation_of(act_));
  initializers::to_config(options_.kernel_initializer);  // throws on an unknown name
  initializers::to_config(options_.bias_initializer);
  if (!options_.dtype.empty()) set_dtype_policy(options_.dtype);
}

Shape Dense::build(std::span<const Shape> input_shapes) {
  const Shape& input_shape = single_input(input_shapes);
  if (input_shape.size() != 1)
    throw ShapeError("Dense '" + name() + "' expects a flat input per sample (add Flatten first), " +
                     "received per-sample shape " + shape_str(input_shape));
  params_.push_back({"kernel", {input_shape[0], options_.units}, {options_.kernel_initializer}});
  params_.back().regularizer = options_.kernel_regularizer.get();
  if (options_.use_bias) {
    params_.push_back({"bias", {options_.units}, {options_.bias_initializer}});
    params_.back().regularizer = options_.bias_regularizer.get();
  }
  return {options_.units};
}

void Dense::forward(const Context&, std::span<const Tensor* const> inputs, Tensor& out) {
  const Tensor& in = *inputs[0];
  const float* bias = options_.use_bias ? params_[1].value.data() : nullptr;
  cpu::dense_forward(out.data(), in.data(), params_[0].value.data(), bias, activation_of(act_), in.dim(0),
                     input_size(in), options_.units, precision_of(*this));
}

bool Dense::can_store_mapped() const { return activation_of(act_) == cpu::Activation::kLinear; }

void Dense::start_map(ChannelMap& map) const { start_map_with(map, options_.use_bias ? &params_[1] : nullptr); }

void Dense::forward_mapped(const Context&, std::span<const Tensor* const> inputs, Tensor& out,
                           const ChannelMap& map) {
  const Tensor& in = *inputs[0];
  cpu::dense_forward(out.data(), in.data(), params_[0].value.data(), epilogue_of(map), in.dim(0), input_size(in),
                     options_.units, precision_of(*this));
}

int64_t Dense::input_size(const Tensor& in) const {
  const int64_t IN = in.row_size();
  if (IN != params_[0].shape[0])
    throw ShapeError("Dense '" + name() + "' expects " + std::to_string(params_[0].shape[0]) +
                     " inputs per sample, received " + std::to_string(IN) + " (input shape " +
                     shape_str(in.shape()) + ")");
  return IN;
}

void Dense::backward(const Context& ctx, std::span<const Tensor* const> inputs, const Tensor& out, Tensor& grad_out,
                     std::span<const InputGrad> grad_inputs) {
  const Tensor& in = *inputs[0];
  int64_t B = in.dim(0), IN = in.row_size();
  if (!ctx.grad_is_preactivation)
    cpu::activation_backward(grad_out.data(), out.data(), activation_of(act_), B, options_.units);
  // Either the gradients, or (a fused step) the weights themselves, receive alpha * gradient.
  float* dw = grad_target(ctx, &params_[0]);
  float* db = grad_target(ctx, options_.use_bias ? &params_[1] : nullptr);
  const InputGrad& gin = grad_inputs[0];
  cpu::dense_backward(gin.tensor ? gin.tensor->data() : nullptr, gin.accumulate, dw, db, grad_out.data(), in.data(),
                      params_[0].value.data(), B, IN, options_.units, grad_alpha(ctx), grad_accumulates(ctx),
                      precision_of(*this));
}

nlohmann::json Dense::config() const {
  using initializers::to_config;
  return {{"units", options_.units},
          {"activation", options_.activation},
          {"use_bias", options_.use_bias},
          {"kernel_initializer", to_config(options_.kernel_initializer)},
          {"bias_initializer", to_config(options_.bias_initializer)},
          {"kernel_regularizer", regularizers::to_config(options_.kernel_regularizer)},
          {"bias_regularizer", regularizers::to_config(options_.bias_regularizer)},
          {"activity_regularizer", nullptr},
          {"kernel_constraint", nullptr},
          {"bias_constraint", nullptr}};
}

}  // namespace impl

Dense::Dense(int64_t units, std::string activation)
    : Dense(DenseOptions{.units = units, .activation = std::move(activation)}) {}

Dense::Dense(DenseOptions options) : LayerHandle(std::make_shared<impl::Dense>(std::move(options))) {}

}  // namespace kiln::layers
