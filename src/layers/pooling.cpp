#include "kernels/cpu/pool.hpp"
#include "layers/window_state.hpp"

namespace kiln::layers {

namespace impl {

namespace {
cpu::PoolOp op_of(bool max) { return max ? cpu::PoolOp::kMax : cpu::PoolOp::kAverage; }
}  // namespace

Pooling2D::Pooling2D(bool max, Pooling2DOptions options) : max_(max), options_(std::move(options)) {
  const std::string me = class_name();
  check_size(options_.pool_size, "pool_size", me);
  if (options_.strides == Size2(0)) options_.strides = options_.pool_size;
  check_size(options_.strides, "strides", me);
  options_.padding = parse_padding(options_.padding, me) ? "same" : "valid";
}

Pooling2D::~Pooling2D() = default;

Shape Pooling2D::build(std::span<const Shape> input_shapes) {
  const Shape& input = single_input(input_shapes);
  require_image(input);
  const std::string me = class_name() + " '" + name() + "'";
  window_ = std::make_unique<WindowState>(
      WindowState{window_for(input, options_.pool_size, options_.strides, 1, options_.padding == "same", me)});
  return {window_->window.OH, window_->window.OW, input[2]};
}

namespace {
// A max pool's saved workspace holds int32 offsets (one per output value) where the arena has
// floats; only this layer reads or writes them, always as int32.
int32_t* offsets(const Context& ctx) { return reinterpret_cast<int32_t*>(ctx.saved.data()); }
}  // namespace

Workspace Pooling2D::workspace(int64_t batch, bool training) const {
  const cpu::Window& w = window_->window;
  return {.scratch = 0, .saved = training && max_ ? batch * w.OH * w.OW * w.C : 0};
}

void Pooling2D::forward(const Context& ctx, std::span<const Tensor* const> inputs, Tensor& out) {
  cpu::pool_forward(op_of(max_), out.data(), inputs[0]->data(), window_->window, inputs[0]->dim(0),
                    ctx.training && max_ ? offsets(ctx) : nullptr);
}

void Pooling2D::backward(const Context& ctx, std::span<const Tensor* const>, const Tensor&, Tensor& grad_out,
                         std::span<const InputGrad> grad_inputs) {
  const InputGrad& gin = grad_inputs[0];
  if (!gin.tensor) return;
  cpu::pool_backward(op_of(max_), gin.tensor->data(), gin.accumulate, grad_out.data(), max_ ? offsets(ctx) : nullptr,
                     window_->window, gin.tensor->dim(0));
}

nlohmann::json Pooling2D::config() const {
  return {{"pool_size", to_json(options_.pool_size)},
          {"padding", options_.padding},
          {"strides", to_json(options_.strides)},
          {"data_format", "channels_last"}};
}

Shape GlobalPooling2D::build(std::span<const Shape> input_shapes) {
  const Shape& input = single_input(input_shapes);
  require_image(input);
  return {input[2]};
}

void GlobalPooling2D::forward(const Context&, std::span<const Tensor* const> inputs, Tensor& out) {
  const Shape& s = input_shapes()[0];
  cpu::global_pool_forward(op_of(max_), out.data(), inputs[0]->data(), inputs[0]->dim(0), s[0] * s[1], s[2]);
}

void GlobalPooling2D::backward(const Context&, std::span<const Tensor* const> inputs, const Tensor& out,
                               Tensor& grad_out, std::span<const InputGrad> grad_inputs) {
  const InputGrad& gin = grad_inputs[0];
  if (!gin.tensor) return;
  const Shape& s = input_shapes()[0];
  cpu::global_pool_backward(op_of(max_), gin.tensor->data(), gin.accumulate, grad_out.data(),
                            max_ ? inputs[0]->data() : nullptr, max_ ? out.data() : nullptr, gin.tensor->dim(0),
                            s[0] * s[1], s[2]);
}

nlohmann::json GlobalPooling2D::config() const { return {{"data_format", "channels_last"}, {"keepdims", false}}; }

}  // namespace impl

MaxPooling2D::MaxPooling2D(Size2 pool_size) : MaxPooling2D(Pooling2DOptions{.pool_size = pool_size}) {}
MaxPooling2D::MaxPooling2D(Pooling2DOptions options)
    : LayerHandle(std::make_shared<impl::Pooling2D>(true, std::move(options))) {}
AveragePooling2D::AveragePooling2D(Size2 pool_size) : AveragePooling2D(Pooling2DOptions{.pool_size = pool_size}) {}
AveragePooling2D::AveragePooling2D(Pooling2DOptions options)
    : LayerHandle(std::make_shared<impl::Pooling2D>(false, std::move(options))) {}
GlobalAveragePooling2D::GlobalAveragePooling2D() : LayerHandle(std::make_shared<impl::GlobalPooling2D>(false)) {}
GlobalMaxPooling2D::GlobalMaxPooling2D() : LayerHandle(std::make_shared<impl::GlobalPooling2D>(true)) {}

}  // namespace kiln::layers
