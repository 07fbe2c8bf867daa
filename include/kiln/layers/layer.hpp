// The Layer contract, and LayerRef, the shared handle every layer is held and called by.
// A layer maps a batch of one or more inputs to a batch of one output. Its weights live in the
// model's arenas: build() declares them, the model points them at arena memory. A layer knows
// nothing of optimizers or of the graph around it.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "kiln/fused_step.hpp"
#include "kiln/mixed_precision.hpp"
#include "kiln/random.hpp"
#include "kiln/ref.hpp"
#include "kiln/tensor.hpp"

namespace kiln {

class SymbolicTensor;
class Regularizer;
namespace detail {
class Engine;
}

// Keras initializer names: "glorot_uniform", "zeros", "ones", "he_normal", ...
struct Initializer {
  std::string name = "glorot_uniform";
};

// A weight a layer owns: its name ("kernel"), shape, initializer, whether gradients train it,
// (once a model has planned its arenas) views of its value and gradient, and the penalty on it
// (a kernel_regularizer), if any. A non-trainable weight is one the layer keeps up itself (batch
// normalization's moving mean); the optimizer never touches it, and it is saved beside the
// trainable ones.
struct Param {
  std::string name;
  Shape shape;
  Initializer initializer;
  bool trainable = true;
  Tensor value;
  Tensor grad;
  std::shared_ptr<const Regularizer> regularizer;
};

// Floats a layer needs beyond its inputs and output, for a batch: `scratch` during one forward
// or one backward call (im2col buffers), `saved` written by a training forward and read by the
// backward of the same call (dropout masks, batch statistics). The model carves both from its
// planned arena, so a training step allocates nothing.
struct Workspace {
  int64_t scratch = 0;
  int64_t saved = 0;
};

// What a forward or backward call needs to know beyond its tensors.
struct Context {
  bool training = false;
  // The loss has already produced the gradient with respect to the last layer's
  // pre-activation (softmax fused with cross-entropy).
  bool grad_is_preactivation = false;
  // Weight gradients add to what the gradient arena holds (true), or replace it (false: the
  // first backward call for these weights since the optimizer's last step).
  bool accumulate = true;
  // Whether to produce weight gradients at all (false for a frozen layer).
  bool weight_grads = true;
  // When set, apply this step to the weights as each gradient is produced (leaving the gradient
  // arena untouched); any weight the input gradients need must be read before it is updated.
  const FusedStep* fused_step = nullptr;
  std::span<float> scratch, saved;  // sized as workspace() asked
  // Random numbers for this call, the same for a given model seed, step and call site.
  RandomStream random{0};
};

// Where a backward call puts the gradient of one of its inputs: nowhere (tensor null: nothing
// upstream needs it), written over, or added to what is there (a tensor that feeds several
// layers gathers a gradient from each).
struct InputGrad {
  Tensor* tensor = nullptr;
  bool accumulate = false;
};

// A per-channel map (channels: the last axis), y = max(x * scale + shift, 0) or without the
// max: the inference work of a run of layers that the engine folds into the matrix product
// before them, which applies it as it stores each tile of its output (Conv2D -> batch
// normalization -> ReLU at inference is one pass). scale and shift hold one value per channel.
struct ChannelMap {
  std::span<float> scale, shift;
  bool relu = false;
};
// What a layer is at inference, for folding: not a per-channel map, an affine one (compose_map
// says which), or max(x, 0).
enum class MapKind { kNone, kAffine, kRelu };

// Writes or adds `values` (n of them) into g, as g.accumulate says; nothing if g has no tensor.
void store_input_grad(const InputGrad& g, const float* values, int64_t n);

class Layer {
 public:
  virtual ~Layer() = default;

  // The Keras class name, as config.json records it ("Dense").
  virtual std::string class_name() const = 0;
  // Declares the weights for the per-sample input shapes (one per input) and returns the
  // per-sample output shape; throws ShapeError if the inputs do not fit.
  virtual Shape build(std::span<const Shape> input_shapes) = 0;
  // out = f(inputs), all batches (first axis the batch).
  virtual void forward(const Context& ctx, std::span<const Tensor* const> inputs, Tensor& out) = 0;
  // Given the inputs, out and grad_out, produces the weight gradients (adding to param.grad, or
  // writing them when ctx.accumulate is false; skipped unless ctx.weight_grads) and the
  // gradient of each input that grad_inputs asks for. grad_out may be overwritten.
  virtual void backward(const Context& ctx, std::span<const Tensor* const> inputs, const Tensor& out,
                        Tensor& grad_out, std::span<const InputGrad> grad_inputs) = 0;
  // The layer's Keras config ("units", "activation", ...), without "name", "trainable", "dtype".
  virtual nlohmann::json config() const = 0;

  // The memory a call needs beyond its tensors, for a batch of `batch` samples.
  virtual Workspace workspace(int64_t /*batch*/, bool /*training*/) const { return {}; }
  // Which tensors backward reads, so that the model keeps only those alive through a training
  // step (Add reads neither its inputs nor its output; Dense reads both).
  virtual bool backward_reads_inputs() const { return true; }
  virtual bool backward_reads_output() const { return true; }
  // Whether backward honours Context::fused_step.
  virtual bool can_fuse_step() const { return false; }
  // Whether the output is the input's values in the same order under another shape (Flatten):
  // the model then passes the input's memory on as the output, and, where the input feeds no
  // other layer, the output gradient back as the input gradient, without calling the layer.
  virtual bool is_reshape() const { return false; }
  // The activation applied last, for the model to fuse softmax with cross-entropy.
  virtual std::string output_activation() const { return "linear"; }
  // Folding at inference. A matrix-product layer whose output can take a ChannelMap in its
  // store says so (can_store_mapped), sets the map to its own bias (start_map) and runs with
  // the map in place of its bias and activation (forward_mapped). A layer that does no more
  // than a per-channel map at inference says so (channel_map) and composes its map after
  // the one given (compose_map, for an affine map; the map has no ReLU yet).
  virtual bool can_store_mapped() const { return false; }
  virtual void start_map(ChannelMap& /*map*/) const {}
  virtual void forward_mapped(const Context& /*ctx*/, std::span<const Tensor* const> /*inputs*/, Tensor& /*out*/,
                              const ChannelMap& /*map*/) {}
  virtual MapKind channel_map() const { return MapKind::kNone; }
  virtual void compose_map(ChannelMap& /*map*/) const {}
  // The per-sample input shape the layer was created with, if any (Flatten(input_shape)).
  virtual Shape declared_input_shape() const { return {}; }

  // Whether the optimizer trains this layer's weights (Keras's layer.trainable). Set it to
  // false to freeze the layer: its weights then stay as they are through fit.
  bool trainable = true;

  std::vector<Param>& params() { return params_; }
  const std::vector<Param>& params() const { return params_; }
  int64_t count_params() const;
  // Weights the optimizer updates: trainable ones of a trainable layer.
  int64_t count_trainable_params() const;
  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }
  // The Keras dtype policy ("float32", "mixed_bfloat16"): the global one when the layer was
  // created, unless set since. Throws ValueError for a policy kiln does not know.
  const std::string& dtype_policy() const { return dtype_policy_; }
  void set_dtype_policy(const std::string& policy) { dtype_policy_ = mixed_precision::check_policy(policy); }
  bool mixed_bfloat16() const { return dtype_policy_ == "mixed_bfloat16"; }
  bool built() const { return built_; }
  const std::vector<Shape>& input_shapes() const { return input_shapes_; }
  const Shape& output_shape() const { return output_shape_; }
  // Builds the layer for these input shapes the first time; later calls must bring the same
  // shapes (one layer, one set of weights). Returns the output shape. Called when the layer is
  // called on symbolic tensors.
  Shape build_once(std::span<const Shape> input_shapes);

 protected:
  // The one input shape of a single-input layer, which must be the shape the layer was declared
  // with (declared_input_shape()), if any; ShapeError naming the layer otherwise.
  const Shape& single_input(std::span<const Shape> input_shapes) const;
  // ShapeError naming the layer unless `input` is an image, (height, width, channels).
  void require_image(const Shape& input) const;

  std::vector<Param> params_;

 private:
  friend class detail::Engine;
  std::string name_;
  std::string dtype_policy_ = mixed_precision::global_policy();
  bool built_ = false;
  std::vector<Shape> input_shapes_;
  Shape output_shape_;
  // The model whose arenas hold the weights now; a layer's weights live in one model at a time.
  std::weak_ptr<const void> owner_;
};

// A shared handle to a layer. Copies refer to the same layer, as Python names do, so a layer
// kept in a variable and called twice is one layer with one set of weights. Calling it on
// symbolic tensors adds a node to a graph: Dense(10, "softmax")(x), Add()({a, b}).
class LayerRef : public Ref<Layer> {
 public:
  using Ref::Ref;
  SymbolicTensor operator()(const SymbolicTensor& input) const;
  SymbolicTensor operator()(const std::vector<SymbolicTensor>& inputs) const;
};

// A typed handle for a built-in layer: `layers::Dense d(300, "relu"); d->options().units`.
template <typename Impl>
class LayerHandle : public LayerRef {
 public:
  explicit LayerHandle(std::shared_ptr<Impl> impl) : LayerRef(std::shared_ptr<Layer>(std::move(impl))) {}
  Impl* operator->() const { return static_cast<Impl*>(LayerRef::operator->()); }
  Impl& operator*() const { return *operator->(); }
};

}  // namespace kiln
