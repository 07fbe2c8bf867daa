#include <algorithm>

#include "kiln/layers/core.hpp"

namespace kiln::layers {

namespace impl {

Shape Flatten::build(std::span<const Shape> input_shapes) {
  return {shape_size(single_input(input_shapes))};
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
