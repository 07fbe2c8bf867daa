// Optimizers update the model's flat parameter arena in place and own their state arena.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>

#include "kiln/fused_step.hpp"
#include "kiln/ref.hpp"
#include "kiln/schedules.hpp"
#include "kiln/tensor.hpp"

namespace kiln {

// A run of consecutive weights in the model's flat weight array that the optimizer trains.
struct WeightRange {
  int64_t offset = 0, size = 0;
};

// Keras's arguments that every optimizer takes beside its learning rate.
struct OptimizerCommon {
  // Decoupled decay: w -= w * weight_decay * learning_rate before each update (0: none).
  double weight_decay = 0.0;
  // A moving average of the trainable weights, avg = m * avg + (1 - m) * w after each step
  // (m = 0 on the first), written into the weights at the end of fit
  // (finalize_variable_values) and every ema_overwrite_frequency steps when that is not 0.
  bool use_ema = false;
  double ema_momentum = 0.99;
  int64_t ema_overwrite_frequency = 0;
};

class Optimizer {
 public:
  Optimizer(LearningRate learning_rate, OptimizerCommon common);
  virtual ~Optimizer() = default;
  virtual std::string class_name() const = 0;  // "SGD"
  // Allocates state for n weights and restarts the step count (called when the model is
  // compiled).
  void build(int64_t n);
  // One step over the trainable ranges of the flat weights w, from their gradients g (frozen
  // layers' and non-trainable weights lie outside the ranges and are not touched).
  void apply(float* w, const float* g, std::span<const WeightRange> ranges);
  // One step over all n weights.
  void apply(float* w, const float* g, int64_t n);
  // With use_ema, writes the moving average into the trainable ranges of w (fit calls it when
  // training ends, as Keras does); nothing otherwise, or before the first step.
  void finalize_variable_values(float* w, std::span<const WeightRange> ranges) const;
  // With use_ema, exchanges the trainable ranges of w with the moving average (twice: as before).
  void swap_variables(float* w, std::span<const WeightRange> ranges);
  // Keras's optimizer config: {"name": "SGD", "learning_rate": 0.01, ...}.
  virtual nlohmann::json config() const = 0;
  // The step as a FusedStep, when it is w += alpha * g with no state (so layers may apply it
  // where gradients are produced); nothing otherwise.
  virtual std::optional<FusedStep> fused_step() const { return std::nullopt; }
  int64_t iterations() const { return iterations_; }
  // The rate the next step uses: the constant, or the schedule's value at iterations().
  double learning_rate() const { return learning_rate_.at(iterations_); }
  // Sets a constant rate, as Keras's `optimizer.learning_rate = x` (callbacks use it); a
  // ValueError when a schedule drives the rate, or for a rate that is not positive.
  void set_learning_rate(double value);
  const LearningRate& learning_rate_setting() const { return learning_rate_; }
  double weight_decay() const { return common_.weight_decay; }
  const OptimizerCommon& common() const { return common_; }
  // Counts a step that layers applied themselves (see fused_step).
  void count_fused_step() { ++iterations_; }

 protected:
  // Allocates the optimizer's own state for n weights.
  virtual void build_state(int64_t n) = 0;
  // Updates n weights w from their gradients g; they start at `offset` in the flat array (where
  // per-weight state lives). Called once per range of a step, after iterations() counts it; the
  // step's rate is step_learning_rate().
  virtual void update(float* w, const float* g, int64_t offset, int64_t n) = 0;
  float step_learning_rate() const { return step_learning_rate_; }
  // The config keys every optimizer shares, as Keras writes them: name, learning_rate,
  // weight_decay, use_ema, ema_momentum, ema_overwrite_frequency.
  nlohmann::json common_config() const;

 private:
  void update_average(float* w, std::span<const WeightRange> ranges);

  LearningRate learning_rate_;
  OptimizerCommon common_;
  int64_t iterations_ = 0;
  float step_learning_rate_ = 0.0f;
  Tensor average_;  // the moving average of every weight (use_ema)
};

namespace optimizers {

struct SGDOptions {
  LearningRate learning_rate = 0.01;
  double momentum = 0.0;
  bool nesterov = false;
  double weight_decay = 0.0;  // the OptimizerCommon fields
  bool use_ema = false;
  double ema_momentum = 0.99;
  int64_t ema_overwrite_frequency = 0;
};

class SGD : public Optimizer {
 public:
  SGD(SGDOptions options = {});
  std::string class_name() const override { return "SGD"; }
  nlohmann::json config() const override;
  std::optional<FusedStep> fused_step() const override;

 protected:
  void build_state(int64_t n) override;
  void update(float* w, const float* g, int64_t offset, int64_t n) override;

 private:
  SGDOptions options_;
  Tensor velocity_;
};

struct AdamOptions {
  LearningRate learning_rate = 0.001;
  double beta_1 = 0.9;
  double beta_2 = 0.999;
  double epsilon = 1e-7;
  double weight_decay = 0.0;  // the OptimizerCommon fields
  bool use_ema = false;
  double ema_momentum = 0.99;
  int64_t ema_overwrite_frequency = 0;
};

class Adam : public Optimizer {
 public:
  Adam(AdamOptions options = {});
  std::string class_name() const override { return "Adam"; }
  nlohmann::json config() const override;

 protected:
  void build_state(int64_t n) override;
  void update(float* w, const float* g, int64_t offset, int64_t n) override;

 private:
  AdamOptions options_;
  Tensor m_, v_;
};

// An optimizer from its Keras name ("sgd", "adam") or config ({"class_name": "SGD", "config": {...}}).
std::shared_ptr<Optimizer> get(const nlohmann::json& name_or_config);

}  // namespace optimizers

// An optimizer given by name ("sgd") or as an object (optimizers::SGD({.momentum = 0.9})).
class OptimizerRef : public Ref<Optimizer> {
 public:
  using Ref::Ref;
  OptimizerRef(const char* name) : Ref(optimizers::get(name)) {}
  OptimizerRef(const std::string& name) : Ref(optimizers::get(name)) {}
};

}  // namespace kiln
