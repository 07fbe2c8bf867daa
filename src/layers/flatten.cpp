#include <algorithm>

#include "kiln/layers/core.hpp"

namespace kiln::layers {

namespace impl {

Shape Flatten::build(std::span<const Shape> input_shapes) {
  const Shape& input_shape = single_input(input_shapes);
  if (!options_.input_shape.empty() && options_.input_shape != input_shape)
    throw ShapeError("Flatten '" + name() + "' was declared with input shape " +
                     shape_str(options_.input_shape) + ", received " + shape_str(input_shape));
  return {shape_size(input_shape)};
}

void Flatten::forward(const Context&, std::span<const Tensor* const> inputs, Tensor& out) {
  std::copy_n(inputs[0]->data(), inputs[0]->size(), out.data());
}

void Flatten::backward(const Context&, std::span<const Tensor* const>, const Tensor&, Tensor& grad_out,
                       std::span<const InputGrad> grad_inputs) {
  store_input_grad(grad_inputs[0], grad_out.data(), grad_out.size());
}

nlohmann::json Flatten::config() const { return {{"data_format", "channels_last"}}; }

}  // namespace impl

Flatten::Flatten() : Flatten(FlattenOptions{}) {}
Flatten::Flatten(Shape input_shape) : Flatten(FlattenOptions{std::move(input_shape)}) {}
Flatten::Flatten(FlattenOptions options) : LayerHandle(std::make_shared<impl::Flatten>(std::move(options))) {}

}  // namespace kiln::layers
