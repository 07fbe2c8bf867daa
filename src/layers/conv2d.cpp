#include "kernels/cpu/dense.hpp"
#include "kiln/initializers.hpp"
#include "layers/kernel_layer.hpp"
#include "layers/window_state.hpp"

namespace kiln::layers {

namespace impl {

Conv2D::Conv2D(Conv2DOptions options) : options_(std::move(options)) {
  const std::string me = "Conv2D";
  if (options_.filters <= 0)
    throw ValueError(me + ": filters must be a positive integer, received filters=" + std::to_string(options_.filters));
  check_size(options_.kernel_size, "kernel_size", me);
  check_size(options_.strides, "strides", me);
  check_size(options_.dilation_rate, "dilation_rate", me);
  if ((options_.strides.h > 1 || options_.strides.w > 1) &&
      (options_.dilation_rate.h > 1 || options_.dilation_rate.w > 1))
    throw ValueError(me + ": strides > 1 cannot be combined with dilation_rate > 1 (as in Keras)");
  options_.padding = parse_padding(options_.padding, me) ? "same" : "valid";
  act_ = static_cast<int>(cpu::parse_activation(options_.activation));
  options_.activation = cpu::activation_name(activation_of(act_));
  initializers::to_config(options_.kernel_initializer);
  initializers::to_config(options_.bias_initializer);
  if (!options_.dtype.empty()) set_dtype_policy(options_.dtype);
}

Conv2D::~Conv2D() = default;

Shape Conv2D::build(std::span<const Shape> input_shapes) {
  const Shape& input = single_input(input_shapes);
  require_image(input);
  const std::string me = "Conv2D '" + name() + "'";
  window_ = std::make_unique<WindowState>(WindowState{window_for(input, options_.kernel_size, options_.strides,
                                                                 options_.dilation_rate,
                                                                 options_.padding == "same", me)});
  const Size2& k = options_.kernel_size;
  params_.push_back({"kernel", {k.h, k.w, input[2], options_.filters}, {options_.kernel_initializer}});
  params_.back().regularizer = options_.kernel_regularizer.get();
  if (options_.use_bias) {
    params_.push_back({"bias", {options_.filters}, {options_.bias_initializer}});
    params_.back().regularizer = options_.bias_regularizer.get();
  }
  return {window_->window.OH, window_->window.OW, options_.filters};
}

// Inference reads the windows from the image itself where it can (float32 products whose
// windows need no padding): predicting 1000 images with the CNN recipe took 53 / 78 ms so (min /
// median of five alternating runs, busy host), against 76 / 85 ms through an im2col matrix.
// Training keeps the matrix, which the weight gradient reads.
bool Conv2D::reads_in_place(bool training) const {
  return !training && precision_of(*this) == cpu::Precision::kFloat32 && window_->window.readable_in_place();
}

Workspace Conv2D::workspace(int64_t batch, bool training) const {
  const cpu::Window& w = window_->window;
  if (w.pointwise() || reads_in_place(training)) return {};
  const int64_t col = batch * w.OH * w.OW * w.depth();
  if (!training) return {.scratch = col};
  return {.scratch = col + (weight_grad_transposed() ? w.depth() * options_.filters : 0), .saved = col};
}

// The weight gradient as its transpose where the window is longer than the filter count: for the
// CNN recipe's second convolution (7744 x 288 windows, 64 filters) 5.4-6.0 ms against 6.1-6.7 ms
// on one thread (min of 7 x 20 calls, three rounds); for the first (9 x 32) the direct product is
// twice as fast.
bool Conv2D::weight_grad_transposed() const { return window_->window.depth() > options_.filters; }

void Conv2D::forward(const Context& ctx, std::span<const Tensor* const> inputs, Tensor& out) {
  forward_product(ctx, *inputs[0], out, nullptr);
}

bool Conv2D::can_store_mapped() const { return activation_of(act_) == cpu::Activation::kLinear; }

void Conv2D::start_map(ChannelMap& map) const { start_map_with(map, options_.use_bias ? &params_[1] : nullptr); }

void Conv2D::forward_mapped(const Context& ctx, std::span<const Tensor* const> inputs, Tensor& out,
                            const ChannelMap& map) {
  forward_product(ctx, *inputs[0], out, &map);
}

void Conv2D::forward_product(const Context& ctx, const Tensor& in, Tensor& out, const ChannelMap* map) {
  const cpu::Window& w = window_->window;
  const int64_t B = in.dim(0), M = B * w.OH * w.OW, F = options_.filters;
  const float* kernel = params_[0].value.data();
  const bool in_place = !w.pointwise() && reads_in_place(ctx.training);
  const float* col = in.data();
  if (!w.pointwise() && !in_place) {
    float* buffer = (ctx.training ? ctx.saved : ctx.scratch).data();
    cpu::im2col(buffer, in.data(), w, B);
    col = buffer;
  }
  auto product = [&](const cpu::Epilogue& e) {
    if (in_place)
      cpu::gemm_windows(w.windows(in.data()), M, F, kernel, F, out.data(), F, e);
    else
      cpu::dense_forward(out.data(), col, kernel, e, M, w.depth(), F, precision_of(*this));
  };
  if (map) return product(epilogue_of(*map));
  cpu::with_activation(out.data(), options_.use_bias ? params_[1].value.data() : nullptr, activation_of(act_), M, F,
                       product);
}

void Conv2D::backward(const Context& ctx, std::span<const Tensor* const> inputs, const Tensor& out, Tensor& grad_out,
                      std::span<const InputGrad> grad_inputs) {
  const Tensor& in = *inputs[0];
  const cpu::Window& w = window_->window;
  const int64_t B = in.dim(0), M = B * w.OH * w.OW;
  if (!ctx.grad_is_preactivation)
    cpu::activation_backward(grad_out.data(), out.data(), activation_of(act_), M, options_.filters);
  float* dw = grad_target(ctx, &params_[0]);
  float* db = grad_target(ctx, options_.use_bias ? &params_[1] : nullptr);
  const InputGrad& gin = grad_inputs[0];
  // The window gradients go straight into the input's gradient when the image is its own
  // im2col matrix, else into scratch, then back to the pixels they came from.
  const bool direct = w.pointwise();
  float* dcol = !gin.tensor ? nullptr : direct ? gin.tensor->data() : ctx.scratch.data();
  const float* col = direct ? in.data() : ctx.saved.data();
  const int64_t K = w.depth(), F = options_.filters;
  const bool transposed = dw && !direct && weight_grad_transposed();
  cpu::dense_backward(dcol, direct && gin.accumulate, transposed ? nullptr : dw, db, grad_out.data(), col,
                      params_[0].value.data(), M, K, F, grad_alpha(ctx), grad_accumulates(ctx), precision_of(*this));
  // After the input gradient's product, which reads the kernel: with a fused SGD step dw is it.
  if (transposed)
    cpu::weight_grad_transposed(dw, ctx.scratch.data() + M * K, grad_out.data(), col, M, K, F, grad_alpha(ctx),
                                grad_accumulates(ctx), precision_of(*this));
  if (gin.tensor && !direct) cpu::col2im(gin.tensor->data(), gin.accumulate, dcol, w, B);
}

nlohmann::json Conv2D::config() const {
  using initializers::to_config;
  return {{"filters", options_.filters},
          {"kernel_size", to_json(options_.kernel_size)},
          {"strides", to_json(options_.strides)},
          {"padding", options_.padding},
          {"data_format", "channels_last"},
          {"dilation_rate", to_json(options_.dilation_rate)},
          {"groups", 1},
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

Conv2D::Conv2D(int64_t filters, Size2 kernel_size, std::string activation)
    : Conv2D(Conv2DOptions{.filters = filters, .kernel_size = kernel_size, .activation = std::move(activation)}) {}

Conv2D::Conv2D(Conv2DOptions options) : LayerHandle(std::make_shared<impl::Conv2D>(std::move(options))) {}

}  // namespace kiln::layers
