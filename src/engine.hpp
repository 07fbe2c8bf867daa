// The engine under every model: the graph's nodes in running order, the weight and gradient
// arenas, the activation arena planned by liveness, and forward, backward and the optimizer step
// over them. Model builds one from its graph; nothing here knows Keras's API or files.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "kiln/layers/layer.hpp"
#include "kiln/losses.hpp"
#include "kiln/optimizers.hpp"
#include "planner.hpp"

namespace kiln::detail {

// One layer call in running order. Tensors are numbered: the model's inputs first, then each
// node's output (node i makes tensor inputs + i).
struct EngineNode {
  LayerRef layer;
  std::vector<int> inputs;
};

class GradientExchange;
// A data-parallel step's part (kiln/distribute.hpp): this process has some rows of a global
// batch of global_rows, so the loss gradient is divided by global_rows; the exchange sums the
// gradient arena across the processes as backward produces it, before the regularizers'
// gradients (the same on every process) are added.
struct StepShare {
  int64_t global_rows;
  GradientExchange* exchange;
};

class Engine {
 public:
  Engine(std::vector<Shape> input_shapes, std::vector<EngineNode> nodes, std::vector<int> outputs);

  // The weights: one arena, each weight 64-byte aligned, layer by layer in first-run order.
  // Layers whose weights have values from a model they no longer belong to keep them; the rest
  // are initialized from utils::global_rng(). `owner` marks the layers as this model's. Throws
  // ValueError when the weights would not fit in this machine's memory.
  void allocate_weights(const std::shared_ptr<const void>& owner);
  // Frees a layer from its model (a Sequential's popped layer), so another model may take it.
  static void release(Layer& layer) { layer.owner_.reset(); }
  Tensor& weights() { return weights_; }
  Tensor& grads() { return grads_; }
  // The distinct layers in running order.
  const std::vector<LayerRef>& layers() const { return layers_; }
  const std::vector<EngineNode>& nodes() const { return nodes_; }
  const Shape& shape(int tensor) const { return shapes_[tensor]; }
  int num_inputs() const { return num_inputs_; }
  const std::vector<int>& outputs() const { return outputs_; }

  // Plans for batches of up to `batch` samples (training: keeping what backward needs;
  // keep_all: every tensor in its own memory, so that value() holds each after forward).
  void plan(int64_t batch, bool training, bool keep_all = false);
  // A tensor's values after the last forward (a layer's output: tensor num_inputs() + node).
  const Tensor& value(int tensor) const { return values_[tensor]; }
  // Bytes of the activation arena a plan for `batch` would take; `keep_all` gives every tensor
  // its own memory instead (what a planner without liveness takes).
  int64_t arena_bytes(int64_t batch, bool training, bool keep_all) const;
  // Rows of an inference batch whose activations take at most kInferenceBytes: predict and
  // evaluate run larger batches in slices of this many rows.
  int64_t inference_rows() const;
  // Runs the nodes on one batch per model input (all with the same number of rows).
  void forward(std::span<const Tensor* const> x, bool training);
  const std::vector<const Tensor*>& output_values() const { return output_values_; }
  // From the first output's loss gradient back to every trainable weight, with the gradients of
  // their regularizers: gradients add up until apply_gradients, or (fused) the step is applied
  // where each gradient is produced.
  // With a share, the gradients are the global batch's, summed across the processes (never fused).
  void backward(const Loss& loss, const Targets& targets, const FusedStep* fused, const StepShare* share = nullptr);
  void apply_gradients(Optimizer& optimizer);
  void train_step(const Loss& loss, Optimizer& optimizer, const Targets& targets, const StepShare* share = nullptr);
  // The step of a process that has no rows of this global batch: zero gradients join the sum.
  void shared_step_without_rows(Optimizer& optimizer, const StepShare& share);
  // The sum of the regularizers' penalties on the trainable weights (Keras's model.losses).
  double regularization_loss() const;
  // The optimizer's end of training on the trainable weights (Optimizer::finalize_variable_values).
  void finalize(const Optimizer& optimizer);
  void swap_average(Optimizer& optimizer);

  // The random streams layers get come from this seed, the training step (counted from here)
  // and the node.
  void set_seed(uint64_t seed) {
    seed_ = seed;
    step_ = 0;
  }
  uint64_t step() const { return step_; }
  void set_step(uint64_t step) { step_ = step; }

 private:
  struct Buffers;  // where a plan puts each tensor, its gradient and each node's workspace
  Buffers layout(int64_t batch, bool training, bool keep_all) const;
  void set_view_batch(int64_t b);
  // Finds the runs of layers folded into a product at inference (fold_end_).
  void find_folds();
  // Node i's forward at inference with the layers folded into it, writing the last one's output.
  void forward_folded(int i, const Context& ctx);
  // Which nodes run backward, which inputs get gradients and which weights the optimizer trains,
  // from the layers' trainable flags now (a callback may freeze a layer between steps).
  void refresh_trainable();
  // Adds the regularizers' gradients of the trainable weights.
  void add_penalty_gradients();

  int num_inputs_;
  std::vector<EngineNode> nodes_;
  std::vector<int> outputs_;
  std::vector<Shape> shapes_;                  // per tensor, per sample
  std::vector<std::vector<int>> consumers_;    // per tensor: nodes reading it, in running order
  std::vector<int> producer_;                  // per tensor: its node, or -1 for a model input
  std::vector<LayerRef> layers_;
  std::vector<int> calls_;                     // per layer: how many nodes call it
  std::vector<int> layer_of_;                  // per node: its layer's index in layers_
  // Folding at inference: per node, the last node of the per-channel maps folded into its store
  // (itself when none), or -1 for a node folded into the one before it; the maps' scale and
  // shift for each node that folds others.
  std::vector<int> fold_end_;
  std::vector<std::vector<float>> fold_maps_;
  Tensor weights_, grads_;
  bool grads_clear_ = true;  // no gradient pending since the last step

  // The plan.
  int64_t planned_batch_ = 0, view_batch_ = 0;
  bool planned_training_ = false, planned_keep_all_ = false;
  Tensor arena_;
  std::vector<Tensor> values_, grads_of_;       // per tensor
  std::vector<std::vector<const Tensor*>> node_inputs_;
  std::vector<std::vector<InputGrad>> input_grads_;
  std::vector<std::span<float>> scratch_, saved_, backward_scratch_;  // per node
  std::vector<bool> grad_passes_through_;       // per node: a reshape whose input gradient is its output's
  std::vector<const Tensor*> output_values_;

  // From the trainable flags.
  std::vector<char> needs_grad_;   // per tensor
  std::vector<char> weight_grads_; // per layer
  std::vector<WeightRange> ranges_;  // one per trainable weight (a kernel, a bias)
  // Per node: where in the gradient arena the weights begin whose gradients are final once
  // backward has passed the node (the layers first called at or after it), for the exchange.
  std::vector<int64_t> final_from_;
  std::vector<char> seen_;         // per layer, scratch of one backward pass
  bool fusable_ = false;           // every trainable layer can take a fused step, and runs once

  uint64_t seed_ = 0, step_ = 0;
  mutable int64_t inference_rows_ = 0;  // computed on first use
};

}  // namespace kiln::detail
