#include "kiln/layers/layer.hpp"

#include <algorithm>

namespace kiln {

void store_input_grad(const InputGrad& g, const float* values, int64_t n) {
  if (!g.tensor) return;
  float* dst = g.tensor->data();
  if (g.accumulate)
    for (int64_t i = 0; i < n; ++i) dst[i] += values[i];
  else if (dst != values)
    std::copy_n(values, n, dst);
}

int64_t Layer::count_params() const {
  int64_t n = 0;
  for (const auto& p : params_) n += shape_size(p.shape);
  return n;
}

int64_t Layer::count_trainable_params() const {
  int64_t n = 0;
  if (trainable)
    for (const auto& p : params_)
      if (p.trainable) n += shape_size(p.shape);
  return n;
}

const Shape& Layer::single_input(std::span<const Shape> input_shapes) const {
  if (input_shapes.size() != 1)
    throw ShapeError(class_name() + " '" + name() + "' takes one input, received " +
                     std::to_string(input_shapes.size()));
  const Shape declared = declared_input_shape();
  if (!declared.empty() && declared != input_shapes[0])
    throw ShapeError(class_name() + " '" + name() + "' was declared with input shape " + shape_str(declared) +
                     ", received " + shape_str(input_shapes[0]));
  return input_shapes[0];
}

void Layer::require_image(const Shape& input) const {
  if (input.size() != 3)
    throw ShapeError(class_name() + " '" + name() + "' expects images shaped (height, width, channels) per sample, " +
                     "received " + shape_str(input));
}

Shape Layer::build_once(std::span<const Shape> input_shapes) {
  std::vector<Shape> shapes(input_shapes.begin(), input_shapes.end());
  if (built_) {
    if (shapes != input_shapes_) {
      std::string was, now;
      for (const auto& s : input_shapes_) was += (was.empty() ? "" : ", ") + shape_str(s);
      for (const auto& s : shapes) now += (now.empty() ? "" : ", ") + shape_str(s);
      throw ShapeError(class_name() + " '" + name() + "' was first called on inputs shaped " + was +
                       " (per sample), now on " + now + ": a layer called again must get the same shapes");
    }
    return output_shape_;
  }
  params_.clear();
  output_shape_ = build(shapes);
  input_shapes_ = std::move(shapes);
  built_ = true;
  return output_shape_;
}

}  // namespace kiln
