// Model: a graph of layer calls (Keras's functional model) that plans its memory, trains,
// evaluates, predicts, prints its summary and saves itself. Sequential is a Model built as a
// chain, with add and pop. Both are built on the same engine (engine.hpp).
#pragma once

#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "kiln/graph.hpp"
#include "kiln/layers/layer.hpp"
#include "kiln/losses.hpp"
#include "kiln/metrics.hpp"
#include "kiln/optimizers.hpp"
#include "kiln/trainer.hpp"

namespace kiln {

// Keras's compile arguments. `metrics` see the targets unweighted; `weighted_metrics` are
// weighted by fit's sample_weight or class_weight (and evaluate's sample_weight), as in Keras.
struct CompileOptions {
  LossRef loss = "sparse_categorical_crossentropy";
  OptimizerRef optimizer = "sgd";
  std::vector<std::string> metrics;
  std::vector<std::string> weighted_metrics;
};

// How raw uint8 pixels become model inputs (for the CLI and the server): x * rescale.
struct Preprocessing {
  double rescale = 1.0;
  // How an image file of another size becomes the model's input (datasets::load_image): the
  // resize method and whether the centre is cropped to the input's aspect ratio first.
  std::string interpolation = "bilinear";
  bool crop_to_aspect_ratio = false;
};

namespace detail {
class Engine;
}

class Model {
 public:
  // The functional model from `inputs` to `outputs`: every node on a path between them, in an
  // order where each runs after its inputs. Throws ValueError when an output cannot be reached
  // from the inputs alone (naming the input it would need) or two layers share a name.
  Model(SymbolicTensor input, SymbolicTensor output, std::string name = "model");
  Model(std::vector<SymbolicTensor> inputs, std::vector<SymbolicTensor> outputs, std::string name = "model");
  ~Model();
  // A model owns its weights: copying is disabled (clone_model makes a new model from the same
  // architecture, get_weights / set_weights copy weights between models); moving keeps them.
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;
  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;

  void compile(CompileOptions options);
  // The inputs are one Inputs per model input (a single one converts from a tensor); the labels
  // are for the model's one output (fit and evaluate need a single-output model).
  History fit(const std::vector<Inputs>& x, const Labels& y, const FitOptions& options = {});
  Logs evaluate(const std::vector<Inputs>& x, const Labels& y, const EvaluateOptions& options = {});
  // The output of a single-output model for all of x.
  Tensor predict(const std::vector<Inputs>& x, const PredictOptions& options = {});
  // Every output, in the order of outputs().
  std::vector<Tensor> predict_outputs(const std::vector<Inputs>& x, const PredictOptions& options = {});
  History fit(const Inputs& x, const Labels& y, const FitOptions& options = {});
  Logs evaluate(const Inputs& x, const Labels& y, const EvaluateOptions& options = {});
  Tensor predict(const Inputs& x, const PredictOptions& options = {});
  // The same over a batched pipeline (data::Dataset), its targets and weights in its batches.
  History fit(const data::Dataset& x, const FitOptions& options = {});
  Logs evaluate(const data::Dataset& x, const EvaluateOptions& options = {});
  Tensor predict(const data::Dataset& x, const PredictOptions& options = {});

  // Keras's table: layer (type), output shape, params (and, for a model that is not a plain
  // chain, what each layer is connected to); then the totals.
  void summary(std::ostream& out = std::cout) const;
  // Writes DIR/config.json and DIR/model.safetensors as one unit (see docs/formats.md); to a
  // path ending in .keras, a Keras 3 archive that Keras's load_model reads.
  void save(const std::filesystem::path& dir) const;
  // Keras's save_weights / load_weights: every weight in one safetensors file, named
  // "<layer>/<weight>" as in a saved model's model.safetensors, written atomically (a temporary
  // beside it, then a rename). load_weights reads such a file, or a saved model's
  // model.safetensors, into a model of the same architecture; IoError naming the weight when one
  // is missing, misshaped or belongs to no layer. It also reads Keras's weights files (.weights.h5
  // of Keras 3, Keras 2's save_weights .h5, or a full-model .h5), matching layers as Keras does:
  // by class and order (Keras 3) or by order among the layers with weights (Keras 2).
  void save_weights(const std::filesystem::path& path) const;
  void load_weights(const std::filesystem::path& path);

  const std::string& name() const { return name_; }
  // "Sequential" or "Functional": how config.json and summary() describe the model.
  std::string class_name() const { return sequential_ ? "Sequential" : "Functional"; }
  // The distinct layers in the order they first run (a functional model's InputLayers first,
  // as Keras lists them; a Sequential's layers without its input).
  const std::vector<LayerRef>& layers() const { return layer_list_; }
  // The layer named `name`; ValueError listing the names otherwise.
  LayerRef get_layer(const std::string& name) const;
  const std::vector<SymbolicTensor>& inputs() const { return inputs_; }
  const std::vector<SymbolicTensor>& outputs() const { return outputs_; }
  bool built() const { return engine_ != nullptr; }
  bool compiled() const { return loss_ != nullptr; }
  const Shape& input_shape() const;   // per sample, of the one input
  const Shape& output_shape() const;  // per sample, of the one output
  int64_t count_params() const;
  int64_t count_trainable_params() const;
  const std::shared_ptr<Loss>& loss() const { return loss_; }
  const std::shared_ptr<Optimizer>& optimizer() const { return optimizer_; }
  const std::vector<std::string>& metric_names() const { return metric_names_; }
  const std::vector<std::string>& weighted_metric_names() const { return weighted_metric_names_; }
  // The compiled metrics, resolved for targets that are integer labels (sparse) or float values.
  metrics::MetricList make_metrics(bool sparse_targets) const;
  // The regularizers' penalties on the trainable weights, summed (what Keras adds to the loss
  // from model.losses); 0 without regularizers.
  double regularization_loss() const;

  // Copies of every weight, in layer order (Keras's get_weights), and the reverse.
  std::vector<Tensor> get_weights() const;
  void set_weights(const std::vector<Tensor>& weights);

  // Saved with the model: the names of the output classes, how raw pixels become inputs, and
  // free-form string metadata (kiln train records the dataset).
  std::vector<std::string> class_names;
  Preprocessing preprocessing;
  std::map<std::string, std::string> metadata;
  // Set by a callback to end fit after the current epoch (Keras's model.stop_training).
  bool stop_training = false;

  // The output of the named layer (its first call) for the samples x, as predict computes it
  // (inference mode): what the layer sees of each image, as Keras's
  // Model(model.inputs, model.get_layer(name).output).predict(x) gives. The model then keeps
  // every activation of a batch of x's size in memory. Throws ValueError for an unknown name.
  Tensor layer_output(const Tensor& x, const std::string& layer);

  // The engine, for the Trainer and for tests: plan activation memory for batches of up to
  // `batch` samples, run forward on one batch per input and return the first output, run
  // backward from the batch's targets (weight gradients, with the regularizers', add up over
  // backward passes until the next optimizer step), apply one optimizer step. train_step is
  // backward then the step, in one pass where the optimizer offers a fused step (plain SGD), no
  // gradients are pending and no trained weight has a regularizer.
  void plan(int64_t batch, bool training);
  const Tensor& forward(std::span<const Tensor* const> x, bool training);
  const Tensor& forward(const Tensor& x, bool training);
  // The model's outputs after the last forward.
  const std::vector<const Tensor*>& output_tensors() const;
  void backward(const Targets& targets);
  void apply_gradients();
  void train_step(const Targets& targets);
  // Ends training as fit does: an optimizer with use_ema writes its moving averages into the
  // trainable weights (Keras's optimizer.finalize_variable_values).
  void finalize_variable_values();
  // Exchanges the trainable weights with the optimizer's moving averages (use_ema), so that a
  // second call restores them (what SwapEMAWeights does around an evaluation); nothing before
  // the first step.
  void swap_ema_weights();
  // Seeds the random streams layers draw from in training (dropout, augmentation); fit sets it
  // from its own seed.
  void set_seed(uint64_t seed);
  // Training steps taken since set_seed (the layers' random streams are drawn by step), and its
  // restoration when a checkpointed run continues.
  uint64_t random_step() const;
  void set_random_step(uint64_t step);
  // Flat views of every weight (trainable, then not, layer by layer) and of their gradients.
  Tensor& weights();
  const Tensor& weights() const;
  // The arena a forward pass at `batch` samples would use, in bytes (with `training`, what a
  // training step keeps): what the planner's liveness saves, next to keeping every tensor.
  int64_t planned_bytes(int64_t batch, bool training) const;
  int64_t unplanned_bytes(int64_t batch, bool training) const;

 protected:
  // A Sequential: no graph until the first layer's input shape is known.
  Model(std::string name, bool sequential);
  // (Re)builds the graph from inputs_/outputs_ and the weights: layers with weights from a
  // model they no longer belong to keep them, the others are initialized from
  // utils::global_rng().
  void build_graph();
  // Forgets the graph (a Sequential popped to no layers).
  void clear_graph();
  void require_built(const char* what) const;
  // The shape of the one input or output ("input" / "output"); ValueError for several.
  const Shape& only_shape(const std::vector<SymbolicTensor>& tensors, const char* what) const;

  std::string name_;
  bool sequential_ = false;
  std::vector<SymbolicTensor> inputs_, outputs_;
  std::vector<LayerRef> layer_list_;  // what layers() returns

 private:
  friend class Trainer;
  std::shared_ptr<const void> token_ = std::make_shared<int>(0);  // identifies this model to its layers
  std::unique_ptr<detail::Engine> engine_;
  std::shared_ptr<Loss> loss_;
  std::shared_ptr<Optimizer> optimizer_;
  std::vector<std::string> metric_names_, weighted_metric_names_;
};

class Sequential : public Model {
 public:
  explicit Sequential(std::vector<LayerRef> layers = {}, std::string name = "sequential");
  // The Sequential a loaded model folder holds; ValueError if the model is functional.
  Sequential(Model&& model);

  // Appends a layer, naming it by its class ("dense", "dense_1", ...) unless it has a name, and
  // rebuilds the model when its input shape is known (layers built before keep their weights).
  void add(LayerRef layer);
  // Removes the last layer.
  void pop();
  // Builds every layer for a per-sample input shape and initializes the weights (drawing from
  // utils::global_rng()). Done by the constructor when the first layer declares its input shape.
  void build(const Shape& input_shape);

 private:
  void append(LayerRef layer);

  std::vector<LayerRef> stack_;
};

// A new model with the same architecture and fresh weights (Keras's clone_model): new layers
// from each layer's config, the same compile settings, class names and preprocessing.
Model clone_model(const Model& model);

// Whether a sample shaped `got` fits a model input shaped `want`: the same shape, or `want`
// without its last axis when that is a channel axis of 1, so that a model taking (28, 28, 1)
// takes the (N, 28, 28) images of a dataset or of grayscale PNG files as they are.
bool input_fits(std::span<const int64_t> want, std::span<const int64_t> got);
// The image a model input shaped `want` takes: (H, W) is a grey image, (H, W, C) one of C = 1
// (grey), 3 (RGB) or 4 (RGBA) channels; nullopt for inputs of other shapes.
struct ImageInput {
  int64_t height, width, channels;
};
std::optional<ImageInput> image_input(const Shape& want);

}  // namespace kiln
