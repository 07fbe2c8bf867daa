#include "kiln/layers/layer.hpp"

namespace kiln {

Shape Layer::build_once(const Shape& input_shape) {
  params_.clear();
  input_shape_ = input_shape;
  output_shape_ = build(input_shape);
  return output_shape_;
}

}  // namespace kiln
