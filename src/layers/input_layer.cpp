#include "kiln/graph.hpp"
#include "kiln/layers/core.hpp"

namespace kiln {

namespace layers {

namespace impl {

Shape InputLayer::build(std::span<const Shape> input_shapes) {
  if (!input_shapes.empty())
    throw ShapeError("InputLayer '" + name() + "' takes no inputs, received " + std::to_string(input_shapes.size()));
  shape_size(shape_);  // throws on a negative or overflowing dimension
  return shape_;
}

nlohmann::json InputLayer::config() const {
  nlohmann::json batch_shape = nlohmann::json::array({nullptr});
  for (int64_t d : shape_) batch_shape.push_back(d);
  return {{"batch_input_shape", batch_shape}, {"dtype", "float32"}, {"sparse", false}, {"ragged", false}};
}

}  // namespace impl

InputLayer::InputLayer(Shape shape) : LayerHandle(std::make_shared<impl::InputLayer>(std::move(shape))) {}

}  // namespace layers

SymbolicTensor Input(Shape shape, std::string name) {
  layers::InputLayer layer(std::move(shape));
  if (!name.empty()) layer->set_name(std::move(name));
  Shape output_shape = layer->build_once({});
  return SymbolicTensor(std::make_shared<Node>(Node{layer, {}, std::move(output_shape), detail::next_node_id()}));
}

}  // namespace kiln
