#include <algorithm>

#include "kiln/layers/core.hpp"

namespace kiln::layers {

Shape Flatten::build(const Shape& input_shape) {
  if (!options_.input_shape.empty() && options_.input_shape != input_shape)
    throw ShapeError("Flatten '" + name() + "' was declared with input shape " +
                     shape_str(options_.input_shape) + ", received " + shape_str(input_shape));
  return {shape_size(input_shape)};
}

void Flatten::forward(const Context&, const Tensor& in, Tensor& out) {
  std::copy_n(in.data(), in.size(), out.data());
}

void Flatten::backward(const Context&, const Tensor&, const Tensor&, Tensor& grad_out,
                       Tensor* grad_in) {
  if (grad_in) std::copy_n(grad_out.data(), grad_out.size(), grad_in->data());
}

nlohmann::json Flatten::config() const { return {{"data_format", "channels_last"}}; }

}  // namespace kiln::layers
