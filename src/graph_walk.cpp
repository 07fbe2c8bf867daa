#include "graph_walk.hpp"

#include <algorithm>
#include <map>

#include "kiln/model.hpp"

namespace kiln::detail {

std::vector<const Node*> nodes_in_running_order(const std::vector<SymbolicTensor>& outputs) {
  std::vector<const Node*> order;
  std::map<const Node*, int> state;  // 1: being visited, 2: done
  for (const auto& out : outputs) {
    if (state[out.node().get()] != 0) continue;
    state[out.node().get()] = 1;
    std::vector<std::pair<const Node*, size_t>> stack{{out.node().get(), 0}};
    while (!stack.empty()) {
      auto& [node, next] = stack.back();
      if (next < node->inputs.size()) {
        const Node* child = node->inputs[next++].node().get();
        if (state[child] == 0) {
          state[child] = 1;
          stack.push_back({child, 0});
        }
        continue;
      }
      state[node] = 2;
      order.push_back(node);
      stack.pop_back();
    }
  }
  return order;
}

std::vector<LayerCall> layer_calls(const Model& model) {
  std::vector<const Node*> nodes;
  for (const auto& x : model.inputs()) nodes.push_back(x.node().get());
  for (const Node* node : nodes_in_running_order(model.outputs()))
    if (std::find(nodes.begin(), nodes.end(), node) == nodes.end()) nodes.push_back(node);
  std::map<const Layer*, int> calls_so_far;
  std::map<const Node*, int> index_of;
  std::vector<LayerCall> out;
  for (const Node* node : nodes) {
    LayerCall call{node, calls_so_far[&*node->layer]++, {}};
    index_of[node] = call.node_index;
    for (const auto& x : node->inputs) call.inputs.push_back({x.layer()->name(), index_of.at(x.node().get()), 0});
    out.push_back(std::move(call));
  }
  return out;
}

bool is_sequential_like(const Model& model) {
  if (model.class_name() == "Sequential") return true;
  std::vector<LayerCall> calls = layer_calls(model);
  // Depth: 0 at the outputs, one more than the deepest reader elsewhere (Keras's nodes_by_depth).
  std::map<const Node*, int> depth;
  for (auto it = calls.rbegin(); it != calls.rend(); ++it) {
    int d = depth[it->node];
    for (const auto& x : it->node->inputs) depth[x.node().get()] = std::max(depth[x.node().get()], d + 1);
  }
  std::map<int, int> nodes_at;
  for (const auto& call : calls) {
    if (++nodes_at[depth[call.node]] > 1 || call.inputs.size() > 1 || call.node_index > 0) return false;
  }
  return true;
}

}  // namespace kiln::detail
