// Sequential: a stack of layers that plans its memory once, trains, evaluates, predicts,
// prints its summary and saves itself.
#pragma once

#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kiln/layers/layer.hpp"
#include "kiln/losses.hpp"
#include "kiln/metrics.hpp"
#include "kiln/optimizers.hpp"
#include "kiln/trainer.hpp"

namespace kiln {

struct CompileOptions {
  LossRef loss = "sparse_categorical_crossentropy";
  OptimizerRef optimizer = "sgd";
  std::vector<std::string> metrics;
};

// How raw uint8 pixels become model inputs (for the CLI and the server): x * rescale.
struct Preprocessing {
  double rescale = 1.0;
};

class Sequential {
 public:
  explicit Sequential(std::vector<LayerRef> layers = {}, std::string name = "sequential");

  // Appends a layer, naming it by its class ("dense", "dense_1", ...) unless it has a name, and
  // (re)builds the model when its input shape is known, initializing every weight anew.
  void add(LayerRef layer);
  // Builds every layer for a per-sample input shape and initializes the weights (drawing from
  // utils::global_rng()). Done by the constructor when the first layer declares its input shape.
  void build(const Shape& input_shape);
  void compile(CompileOptions options);

  History fit(const Inputs& x, const Labels& y, const FitOptions& options = {});
  Logs evaluate(const Inputs& x, const Labels& y, const EvaluateOptions& options = {});
  Tensor predict(const Inputs& x, const PredictOptions& options = {});

  // Keras's table: layer (type), output shape, params; then the totals.
  void summary(std::ostream& out = std::cout) const;
  // Writes DIR/config.json and DIR/model.safetensors (see docs/formats.md).
  void save(const std::filesystem::path& dir) const;

  const std::string& name() const { return name_; }
  const std::vector<LayerRef>& layers() const { return layers_; }
  bool built() const { return built_; }
  bool compiled() const { return loss_ != nullptr; }
  const Shape& input_shape() const { return input_shape_; }   // per sample
  const Shape& output_shape() const;                          // per sample
  int64_t count_params() const { return param_count_; }
  const std::shared_ptr<Loss>& loss() const { return loss_; }
  const std::shared_ptr<Optimizer>& optimizer() const { return optimizer_; }
  const std::vector<std::string>& metric_names() const { return metric_names_; }
  std::vector<std::unique_ptr<Metric>> make_metrics() const;

  // Saved with the model: the names of the output classes, how raw pixels become inputs, and
  // free-form string metadata (kiln train records the dataset).
  std::vector<std::string> class_names;
  Preprocessing preprocessing;
  std::map<std::string, std::string> metadata;

  // The engine, for the Trainer: plan activation memory for batches of up to `batch` samples,
  // run forward on x (b, input...) and return the output (b, classes), run backward from labels
  // (gradients add up over backward passes until the next optimizer step), and apply one
  // optimizer step. train_step is backward then apply_gradients in one pass where it can be:
  // with plain SGD (no momentum) and no gradients pending, each layer applies the step to its
  // weights as it produces their gradient, and the gradient arena is not touched.
  void plan(int64_t batch, bool training);
  const Tensor& forward(const Tensor& x, bool training);
  void backward(const Tensor& x, const int32_t* labels);
  void apply_gradients();
  void train_step(const Tensor& x, const int32_t* labels);
  // Flat views of every weight and gradient, in layer order.
  Tensor& weights() { return weights_; }
  const Tensor& weights() const { return weights_; }

 private:
  void require_built(const char* what) const;
  void append(LayerRef layer);
  void set_view_batch(int64_t b);
  void backward_pass(const Tensor& x, const int32_t* labels, float sgd_learning_rate);

  std::string name_;
  std::vector<LayerRef> layers_;
  bool built_ = false;
  Shape input_shape_;
  int64_t param_count_ = 0;
  Tensor weights_, grads_;
  // True until a backward pass after build or after an optimizer step: the next backward pass
  // writes the gradients instead of adding to them, so they never need zeroing.
  bool grads_clear_ = true;
  std::shared_ptr<Loss> loss_;
  std::shared_ptr<Optimizer> optimizer_;
  std::vector<std::string> metric_names_;
  // Activation arena: per layer, its output and the gradient with respect to it.
  int64_t planned_batch_ = 0, view_batch_ = 0;
  bool planned_training_ = false;
  Tensor activations_;
  std::vector<Tensor> outputs_, output_grads_;
};

}  // namespace kiln
