// Symbolic tensors: what Keras's functional API passes between layer calls. Input() makes one;
// calling a layer on symbolic tensors records a node (that layer, those inputs) and returns its
// output. Model(inputs, outputs) then collects the nodes between them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kiln/layers/layer.hpp"

namespace kiln {

// One call of a layer: the layer, the tensors it was called on, its output's per-sample shape.
struct Node {
  LayerRef layer;
  std::vector<SymbolicTensor> inputs;
  Shape output_shape;
  uint64_t id = 0;  // creation order
};

// The output of one node (Keras's KerasTensor). It holds no values, only where they come from.
class SymbolicTensor {
 public:
  explicit SymbolicTensor(std::shared_ptr<const Node> node) : node_(std::move(node)) {}
  // The per-sample shape ({28, 28}; Keras prints it (None, 28, 28)).
  const Shape& shape() const { return node_->output_shape; }
  const std::shared_ptr<const Node>& node() const { return node_; }
  const LayerRef& layer() const { return node_->layer; }

 private:
  std::shared_ptr<const Node> node_;
};

namespace detail {
// Numbers nodes in creation order, across threads.
uint64_t next_node_id();
}  // namespace detail

// A model input of the given per-sample shape, produced by an InputLayer named `name` (Keras's
// default: "input_1", "input_2", ... numbered within the model).
SymbolicTensor Input(Shape shape, std::string name = "");

}  // namespace kiln
