// Walks over a graph of symbolic tensors: the order its nodes run in, and each layer call with
// the calls it reads from, numbered as Keras numbers them (a layer's first call is its node 0).
// The model builds its engine from the first; summary() and config.json are written from the
// second.
#pragma once

#include <string>
#include <vector>

#include "kiln/graph.hpp"

namespace kiln {
class Model;
}

namespace kiln::detail {

// Every node the outputs depend on, each after the nodes it reads (depth first, inputs in order).
std::vector<const Node*> nodes_in_running_order(const std::vector<SymbolicTensor>& outputs);

// A tensor a call reads: the layer that made it, which call of that layer, which output.
struct InboundTensor {
  std::string layer;
  int node_index = 0;
  int tensor_index = 0;
};

struct LayerCall {
  const Node* node = nullptr;
  int node_index = 0;  // among the calls of node->layer in this model
  std::vector<InboundTensor> inputs;
};

// The model's calls: its inputs first, then every other node in running order.
std::vector<LayerCall> layer_calls(const Model& model);

// Keras's test for printing a summary without the "Connected to" column: one node at each depth
// of the graph, none reading more than one tensor, no layer called twice.
bool is_sequential_like(const Model& model);

}  // namespace kiln::detail
