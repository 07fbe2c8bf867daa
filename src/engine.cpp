// The engine's set-up: a model's graph as flat arrays of nodes, its weights in one arena, and
// each batch size's activations, gradients and workspace planned by liveness (layout, plan).
// The passes are in engine_passes.cpp, inference's folding in engine_inference.cpp.
#include "engine.hpp"

#include <unistd.h>

#include <algorithm>

#include "kernels/cpu/gemm.hpp"
#include "kiln/initializers.hpp"

namespace kiln::detail {

namespace {

constexpr int64_t kAlign = 16;  // floats: each weight and buffer starts on a 64-byte boundary
int64_t aligned(int64_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

int64_t add_checked(int64_t a, int64_t b, const std::string& what) {
  int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) throw ValueError(what + " overflows a 64-bit count");
  return sum;
}

// Throws ValueError when `floats` would not fit in this machine's memory (an allocation that
// size would be granted by the kernel and then fail page by page, or kill the process).
void check_fits(int64_t floats, const std::string& what) {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  const double bytes = 4.0 * static_cast<double>(floats), memory = static_cast<double>(pages) * page;
  if (pages > 0 && page > 0 && bytes > memory)
    throw ValueError(what + " need " + std::to_string(bytes / (1 << 30)) + " GiB, more than this machine's " +
                     std::to_string(memory / (1 << 30)) + " GiB of memory");
}

Shape batched(int64_t batch, const Shape& per_sample) {
  Shape s = per_sample;
  s.insert(s.begin(), batch);
  return s;
}

}  // namespace

// Where a plan puts everything, in floats from the arena's start (-1: no arena memory).
struct Engine::Buffers {
  std::vector<int64_t> value, grad;                   // per tensor
  std::vector<int64_t> scratch, saved, back_scratch;  // per node
  std::vector<int64_t> value_item, grad_item;         // per tensor: which lifetime holds it (-1: none)
  std::vector<char> passes_through;                   // per node
  int64_t total = 0;
};

Engine::Engine(std::vector<Shape> input_shapes, std::vector<EngineNode> nodes, std::vector<int> outputs)
    : num_inputs_(static_cast<int>(input_shapes.size())), nodes_(std::move(nodes)), outputs_(std::move(outputs)) {
  shapes_ = std::move(input_shapes);
  producer_.assign(num_inputs_, -1);
  for (size_t i = 0; i < nodes_.size(); ++i) {
    shapes_.push_back(nodes_[i].layer->output_shape());
    producer_.push_back(static_cast<int>(i));
  }
  consumers_.resize(shapes_.size());
  for (size_t i = 0; i < nodes_.size(); ++i)
    for (int t : nodes_[i].inputs) consumers_[t].push_back(static_cast<int>(i));
  for (const auto& node : nodes_) {
    auto it = std::find_if(layers_.begin(), layers_.end(), [&](const LayerRef& l) { return l.get() == node.layer.get(); });
    if (it == layers_.end()) {
      layers_.push_back(node.layer);
      calls_.push_back(0);
      it = layers_.end() - 1;
    }
    layer_of_.push_back(static_cast<int>(it - layers_.begin()));
    ++calls_[layer_of_.back()];
  }
  needs_grad_.assign(shapes_.size(), 0);
  weight_grads_.assign(layers_.size(), 0);
  seen_.assign(layers_.size(), 0);
  find_folds();
}

void Engine::allocate_weights(const std::shared_ptr<const void>& owner) {
  int64_t total = 0, count = 0;
  for (const auto& layer : layers_) {
    auto holder = layer->owner_.lock();
    if (holder && holder != owner)
      throw ValueError(layer->class_name() + " '" + layer->name() +
                       "' belongs to another model: a layer's weights live in one model at a time (build the "
                       "model from new layers, or use clone_model)");
    for (const auto& p : layer->params()) {
      total = add_checked(total, aligned(shape_size(p.shape)), "the number of weights");
      ++count;
    }
  }
  check_fits(2 * total, "the model's weights and their gradients");
  weights_ = Tensor({std::max<int64_t>(total, 1)});
  grads_ = Tensor({std::max<int64_t>(total, 1)});
  ranges_.reserve(static_cast<size_t>(count));
  int64_t offset = 0;
  for (auto& layer : layers_) {
    for (auto& p : layer->params()) {
      Tensor value = Tensor::view(p.shape, weights_.storage(), weights_.data() + offset);
      if (p.value.data() && p.value.shape() == p.shape)
        std::copy_n(p.value.data(), p.value.size(), value.data());  // weights it had in a model before
      else
        initializers::fill(p.initializer.name, value, utils::global_rng());
      p.value = value;
      p.grad = Tensor::view(p.shape, grads_.storage(), grads_.data() + offset);
      offset += aligned(shape_size(p.shape));
    }
    layer->owner_ = owner;
  }
  // Layers run first in their arena order, so the weights of the layers first called at or after
  // node i are the arena's tail from the first such layer's first weight.
  std::vector<int64_t> layer_begin(layers_.size() + 1, offset);
  for (size_t l = layers_.size(); l-- > 0;)
    layer_begin[l] = layers_[l]->params().empty() ? layer_begin[l + 1] : layers_[l]->params()[0].value.data() - weights_.data();
  std::vector<int> first_node(layers_.size(), static_cast<int>(nodes_.size()));
  for (int i = static_cast<int>(nodes_.size()); i-- > 0;) first_node[layer_of_[i]] = i;
  final_from_.assign(nodes_.size(), offset);
  for (size_t i = 0, l = 0; i < nodes_.size(); ++i) {
    while (l < layers_.size() && first_node[l] < static_cast<int>(i)) ++l;
    final_from_[i] = layer_begin[l];
  }
  grads_clear_ = true;
  planned_batch_ = 0;
}

Engine::Buffers Engine::layout(int64_t batch, bool training, bool keep_all) const {
  const int n = static_cast<int>(nodes_.size()), tensors = static_cast<int>(shapes_.size());
  // Steps: node i runs forward at step i, the loss at step n, node i's backward at 2n - i.
  const int last_step = training ? 2 * n : n;
  auto bstep = [n](int i) { return 2 * n - i; };
  std::vector<Lifetime> items;
  auto add_item = [&](int64_t size, int first, int last) {
    items.push_back({size, keep_all ? 0 : first, keep_all ? last_step : last});
    return static_cast<int64_t>(items.size()) - 1;
  };
  auto is_output = [&](int t) { return std::find(outputs_.begin(), outputs_.end(), t) != outputs_.end(); };
  Buffers b;
  b.value_item.assign(tensors, -1);
  b.grad_item.assign(tensors, -1);
  b.passes_through.assign(n, 0);
  // Values: a reshape's output shares its input's memory (a model input's memory is the
  // caller's). Each buffer lives from its producer to its last reader, forward or backward.
  // The last output of a folded run is written when the run's first node runs.
  std::vector<int> written_at(n);
  for (int i = 0, head = 0; i < n; ++i) {
    if (fold_end_[i] >= 0) head = i;
    written_at[i] = head;
  }
  for (int t = num_inputs_; t < tensors; ++t) {
    int p = producer_[t];
    if (nodes_[p].layer->is_reshape())
      b.value_item[t] = b.value_item[nodes_[p].inputs[0]];
    else
      b.value_item[t] = add_item(batch * shape_size(shapes_[t]), written_at[p], p);
  }
  for (int t = num_inputs_; t < tensors; ++t) {
    int64_t item = b.value_item[t];
    if (item < 0) continue;
    int last = items[item].last;
    for (int c : consumers_[t]) {
      last = std::max(last, c);
      if (training && nodes_[c].layer->backward_reads_inputs()) last = std::max(last, bstep(c));
    }
    if (training && nodes_[producer_[t]].layer->backward_reads_output()) last = std::max(last, bstep(producer_[t]));
    if (is_output(t)) last = last_step;
    if (!keep_all) items[item].last = std::max(items[item].last, last);
  }
  // Gradients: written first by the loss or the last consumer, read last by the producer. A
  // reshape that is its input's only reader hands its output gradient back as the input's. A
  // tensor with no weights upstream never needs one (the seed model's Flatten output).
  std::vector<char> weights_upstream(tensors, 0);
  for (int t = num_inputs_; t < tensors; ++t) {
    const auto& node = nodes_[producer_[t]];
    weights_upstream[t] = !node.layer->params().empty();
    for (int in : node.inputs) weights_upstream[t] = weights_upstream[t] || weights_upstream[in];
  }
  if (training)
    for (int t = tensors; t-- > num_inputs_;) {
      int p = producer_[t];
      if (!weights_upstream[t]) continue;
      const auto& readers = consumers_[t];
      if (readers.size() == 1 && nodes_[readers[0]].layer->is_reshape() && !is_output(t) &&
          std::count(nodes_[readers[0]].inputs.begin(), nodes_[readers[0]].inputs.end(), t) == 1) {
        b.passes_through[readers[0]] = 1;
        int64_t item = b.grad_item[num_inputs_ + readers[0]];
        b.grad_item[t] = item;
        if (!keep_all) items[item].last = std::max(items[item].last, bstep(p));
        continue;
      }
      int first = is_output(t) ? n : bstep(p);
      for (int c : readers) first = std::min(first, bstep(c));
      b.grad_item[t] = add_item(batch * shape_size(shapes_[t]), first, bstep(p));
    }
  // Workspace.
  b.scratch.assign(n, -1);
  b.saved.assign(n, -1);
  b.back_scratch.assign(n, -1);
  std::vector<int64_t> scratch_item(n, -1), saved_item(n, -1), back_item(n, -1);
  for (int i = 0; i < n; ++i) {
    Workspace ws = nodes_[i].layer->workspace(batch, training);
    if (ws.scratch > 0) scratch_item[i] = add_item(ws.scratch, i, i);
    if (training && ws.scratch > 0) back_item[i] = add_item(ws.scratch, bstep(i), bstep(i));
    if (training && ws.saved > 0) saved_item[i] = add_item(ws.saved, i, bstep(i));
  }
  ArenaPlan plan = plan_arena(items);
  auto offset_of = [&](int64_t item) { return item < 0 ? int64_t{-1} : plan.offsets[item]; };
  b.value.resize(tensors);
  b.grad.resize(tensors);
  for (int t = 0; t < tensors; ++t) {
    b.value[t] = offset_of(b.value_item[t]);
    b.grad[t] = offset_of(b.grad_item[t]);
  }
  for (int i = 0; i < n; ++i) {
    b.scratch[i] = offset_of(scratch_item[i]);
    b.saved[i] = offset_of(saved_item[i]);
    b.back_scratch[i] = offset_of(back_item[i]);
  }
  b.total = plan.total;
  return b;
}

int64_t Engine::arena_bytes(int64_t batch, bool training, bool keep_all) const {
  return 4 * layout(batch, training, keep_all).total;
}

void Engine::plan(int64_t batch, bool training, bool keep_all) {
  if (batch <= planned_batch_ && (planned_training_ || !training) && (planned_keep_all_ || !keep_all)) return;
  batch = std::max(batch, planned_batch_);
  training = training || planned_training_;
  keep_all = keep_all || planned_keep_all_;
  const int n = static_cast<int>(nodes_.size()), tensors = static_cast<int>(shapes_.size());
  Buffers b = layout(batch, training, keep_all);
  check_fits(b.total, "the activations of a batch of " + std::to_string(batch));
  arena_ = Tensor({std::max<int64_t>(b.total, 1)});
  auto view = [&](int64_t offset, const Shape& shape) {
    return offset < 0 ? Tensor::view(shape, nullptr, nullptr)
                      : Tensor::view(shape, arena_.storage(), arena_.data() + offset);
  };
  values_.clear();
  grads_of_.clear();
  for (int t = 0; t < tensors; ++t) {
    values_.push_back(view(b.value[t], batched(batch, shapes_[t])));
    grads_of_.push_back(view(b.grad[t], batched(batch, shapes_[t])));
  }
  // Which node's gradient writes first (the loss, else the last reader's first slot).
  std::vector<std::pair<int, int>> first_writer(tensors, {-1, -1});
  for (int t = 0; t < tensors; ++t) {
    if (std::find(outputs_.begin(), outputs_.end(), t) != outputs_.end()) continue;  // the loss writes
    for (int c : consumers_[t])
      if (c > first_writer[t].first) {
        const auto& ins = nodes_[c].inputs;
        first_writer[t] = {c, static_cast<int>(std::find(ins.begin(), ins.end(), t) - ins.begin())};
      }
  }
  node_inputs_.assign(n, {});
  input_grads_.assign(n, {});
  scratch_.assign(n, {});
  saved_.assign(n, {});
  backward_scratch_.assign(n, {});
  grad_passes_through_.assign(n, false);
  for (int i = 0; i < n; ++i) {
    const auto& ins = nodes_[i].inputs;
    Workspace ws = nodes_[i].layer->workspace(batch, training);
    for (size_t j = 0; j < ins.size(); ++j) {
      node_inputs_[i].push_back(&values_[ins[j]]);
      bool first = first_writer[ins[j]] == std::pair{i, static_cast<int>(j)};
      input_grads_[i].push_back({nullptr, !first});
    }
    auto span_at = [&](int64_t offset, int64_t size) {
      return offset < 0 ? std::span<float>() : std::span<float>(arena_.data() + offset, static_cast<size_t>(size));
    };
    scratch_[i] = span_at(b.scratch[i], ws.scratch);
    saved_[i] = span_at(b.saved[i], ws.saved);
    backward_scratch_[i] = span_at(b.back_scratch[i], ws.scratch);
    grad_passes_through_[i] = b.passes_through[i];
  }
  output_values_.clear();
  for (int t : outputs_) output_values_.push_back(&values_[t]);
  planned_batch_ = view_batch_ = batch;
  planned_training_ = training;
  planned_keep_all_ = keep_all;
  cpu::reserve_scratch();
}

}  // namespace kiln::detail
