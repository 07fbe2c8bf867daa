// Calling a layer on symbolic tensors: the functional API's one operation.
#include "kiln/graph.hpp"

#include <atomic>

namespace kiln {

namespace detail {
uint64_t next_node_id() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace detail

SymbolicTensor LayerRef::operator()(const std::vector<SymbolicTensor>& inputs) const {
  if (inputs.empty())
    throw ValueError(get()->class_name() + " '" + get()->name() + "' was called on no tensors");
  std::vector<Shape> shapes;
  for (const auto& x : inputs) shapes.push_back(x.shape());
  Shape output_shape = get()->build_once(shapes);
  return SymbolicTensor(std::make_shared<Node>(Node{*this, inputs, std::move(output_shape), detail::next_node_id()}));
}

SymbolicTensor LayerRef::operator()(const SymbolicTensor& input) const {
  return (*this)(std::vector<SymbolicTensor>{input});
}

}  // namespace kiln
