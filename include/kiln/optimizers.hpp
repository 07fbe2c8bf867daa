// Optimizers update the model's flat parameter arena in place and own their state arena.
#pragma once

#include <functional>
#include <map>
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
  // At most one of the three clips the gradients before the update, as Keras does: clipnorm
  // scales each weight's gradient to an L2 norm of at most clipnorm, global_clipnorm scales
  // all of them together to a joint norm of at most global_clipnorm, clipvalue clips each
  // element to [-clipvalue, clipvalue]. Unset: no clipping.
  std::optional<double> clipnorm, clipvalue, global_clipnorm;
  // A moving average of the trainable weights, avg = m * avg + (1 - m) * w after each step
  // (m = 0 on the first), written into the weights at the end of fit
  // (finalize_variable_values) and every ema_overwrite_frequency steps when that is not 0.
  bool use_ema = false;
  double ema_momentum = 0.99;
  int64_t ema_overwrite_frequency = 0;
};

// The OptimizerCommon fields, in Keras's order, for each optimizer's options struct (after its
// own arguments), so that designated initializers can name them:
// Adam({.learning_rate = 1e-3, .weight_decay = 1e-4, .clipnorm = 1.0, .use_ema = true}).
#define KILN_OPTIMIZER_COMMON_OPTIONS(default_weight_decay) \
  double weight_decay = default_weight_decay;               \
  std::optional<double> clipnorm;                           \
  std::optional<double> clipvalue;                          \
  std::optional<double> global_clipnorm;                    \
  bool use_ema = false;                                     \
  double ema_momentum = 0.99;                               \
  int64_t ema_overwrite_frequency = 0;

class Optimizer {
 public:
  Optimizer(LearningRate learning_rate, OptimizerCommon common);
  virtual ~Optimizer() = default;
  virtual std::string class_name() const = 0;  // "SGD"
  // Allocates state for n weights and restarts the step count (called when the model is
  // compiled).
  void build(int64_t n);
  // One step over the trainable ranges of the flat weights w, from their gradients g (frozen
  // layers' and non-trainable weights lie outside the ranges and are not touched). Each range
  // is one weight (a kernel, a bias), which is what clipnorm clips on its own. g is read only:
  // clipped gradients go to the optimizer's own buffer.
  void apply(float* w, const float* g, std::span<const WeightRange> ranges);
  // One step over all n weights, as one weight.
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

  // What a checkpoint keeps to continue training exactly: every state tensor by name (each of
  // the n values build allocated: "m", "v", "velocity", "average", ...) and the counters
  // ({"iterations": 120}, and Nadam's momentum product).
  std::map<std::string, Tensor> state();
  nlohmann::json counters() const;
  // Restores them into an optimizer of the same class and settings built for the same n; a
  // ValueError names a missing, extra or misshaped tensor or counter.
  void load_state(const std::map<std::string, Tensor>& state, const nlohmann::json& counters);

 protected:
  // Allocates the optimizer's own state for n weights.
  virtual void build_state(int64_t n) = 0;
  // Called once at the start of each step, after iterations() counts it (Nadam's running
  // momentum product).
  virtual void begin_step() {}
  // Calls fn on each state tensor build_state allocated, by name.
  using SlotFn = std::function<void(const std::string& name, Tensor& slot)>;
  virtual void for_each_slot(const SlotFn& fn) = 0;
  // Counters beyond iterations (Nadam's), and their restoration.
  virtual void save_counters(nlohmann::json& /*counters*/) const {}
  virtual void load_counters(const nlohmann::json& /*counters*/) {}
  // Updates n weights w from their gradients g; they start at `offset` in the flat array (where
  // per-weight state lives). Called once per range of a step, after iterations() counts it; the
  // step's rate is step_learning_rate().
  virtual void update(float* w, const float* g, int64_t offset, int64_t n) = 0;
  float step_learning_rate() const { return step_learning_rate_; }
  // The config keys every optimizer shares, as Keras writes them: name, learning_rate,
  // weight_decay, clipnorm, global_clipnorm, clipvalue, use_ema, ema_momentum,
  // ema_overwrite_frequency.
  nlohmann::json common_config() const;

 private:
  void update_average(float* w, std::span<const WeightRange> ranges);
  // g, or the optimizer's copy of it clipped as the common arguments say.
  const float* clip(const float* g, std::span<const WeightRange> ranges);

  LearningRate learning_rate_;
  OptimizerCommon common_;
  int64_t iterations_ = 0;
  float step_learning_rate_ = 0.0f;
  Tensor average_;  // the moving average of every weight (use_ema)
  Tensor clipped_;  // the clipped gradients (clipnorm, clipvalue, global_clipnorm)
};

namespace optimizers {

// Keras SGD: v = momentum * v - lr * g; w += v (nesterov: w += momentum * v - lr * g).
struct SGDOptions {
  LearningRate learning_rate = 0.01;
  double momentum = 0.0;
  bool nesterov = false;
  KILN_OPTIMIZER_COMMON_OPTIONS(0.0)
};

class SGD : public Optimizer {
 public:
  SGD(SGDOptions options = {});
  std::string class_name() const override { return "SGD"; }
  nlohmann::json config() const override;
  std::optional<FusedStep> fused_step() const override;

 protected:
  void build_state(int64_t n) override;
  void for_each_slot(const SlotFn& fn) override;
  void update(float* w, const float* g, int64_t offset, int64_t n) override;

 private:
  SGDOptions options_;
  Tensor velocity_;
};

// Keras Adam at step t: m += (g - m)(1 - beta_1); v += (g^2 - v)(1 - beta_2); with amsgrad
// v_hat = max(v_hat, v) stands for v; w -= lr sqrt(1 - beta_2^t) / (1 - beta_1^t) * m /
// (sqrt(v) + epsilon).
struct AdamOptions {
  LearningRate learning_rate = 0.001;
  double beta_1 = 0.9;
  double beta_2 = 0.999;
  double epsilon = 1e-7;
  bool amsgrad = false;
  KILN_OPTIMIZER_COMMON_OPTIONS(0.0)
};

class Adam : public Optimizer {
 public:
  Adam(AdamOptions options = {});
  std::string class_name() const override { return "Adam"; }
  nlohmann::json config() const override;

 protected:
  // For AdamW, which is Adam under another name with weight decay required.
  Adam(AdamOptions options, const char* name);
  void build_state(int64_t n) override;
  void for_each_slot(const SlotFn& fn) override;
  void update(float* w, const float* g, int64_t offset, int64_t n) override;

 private:
  AdamOptions options_;
  Tensor m_, v_, v_hat_;
};

// Keras AdamW: Adam with decoupled weight decay (w -= w * weight_decay * lr before the step),
// 0.004 by default and required.
struct AdamWOptions {
  LearningRate learning_rate = 0.001;
  double beta_1 = 0.9;
  double beta_2 = 0.999;
  double epsilon = 1e-7;
  bool amsgrad = false;
  KILN_OPTIMIZER_COMMON_OPTIONS(0.004)
};

class AdamW : public Adam {
 public:
  AdamW(AdamWOptions options = {});
  std::string class_name() const override { return "AdamW"; }
};

// Keras RMSprop: v = rho v + (1 - rho) g^2; centered: a = rho a + (1 - rho) g and v - a^2
// stands for v; step = lr g / sqrt(v + epsilon); with momentum, s = momentum s + step and
// w -= s, otherwise w -= step.
struct RMSpropOptions {
  LearningRate learning_rate = 0.001;
  double rho = 0.9;
  double momentum = 0.0;
  double epsilon = 1e-7;
  bool centered = false;
  KILN_OPTIMIZER_COMMON_OPTIONS(0.0)
};

class RMSprop : public Optimizer {
 public:
  RMSprop(RMSpropOptions options = {});
  std::string class_name() const override { return "RMSprop"; }
  nlohmann::json config() const override;

 protected:
  void build_state(int64_t n) override;
  void for_each_slot(const SlotFn& fn) override;
  void update(float* w, const float* g, int64_t offset, int64_t n) override;

 private:
  RMSpropOptions options_;
  Tensor velocity_, momentum_, average_gradient_;
};

// Keras Adagrad: a += g^2 (a starts at initial_accumulator_value); w -= lr g / sqrt(a + epsilon).
struct AdagradOptions {
  LearningRate learning_rate = 0.001;
  double initial_accumulator_value = 0.1;
  double epsilon = 1e-7;
  KILN_OPTIMIZER_COMMON_OPTIONS(0.0)
};

class Adagrad : public Optimizer {
 public:
  Adagrad(AdagradOptions options = {});
  std::string class_name() const override { return "Adagrad"; }
  nlohmann::json config() const override;

 protected:
  void build_state(int64_t n) override;
  void for_each_slot(const SlotFn& fn) override;
  void update(float* w, const float* g, int64_t offset, int64_t n) override;

 private:
  AdagradOptions options_;
  Tensor accumulator_;
};

// Keras Adamax at step t: m += (g - m)(1 - beta_1); u = max(beta_2 u, |g|);
// w -= lr m / ((1 - beta_1^t)(u + epsilon)).
struct AdamaxOptions {
  LearningRate learning_rate = 0.001;
  double beta_1 = 0.9;
  double beta_2 = 0.999;
  double epsilon = 1e-7;
  KILN_OPTIMIZER_COMMON_OPTIONS(0.0)
};

class Adamax : public Optimizer {
 public:
  Adamax(AdamaxOptions options = {});
  std::string class_name() const override { return "Adamax"; }
  nlohmann::json config() const override;

 protected:
  void build_state(int64_t n) override;
  void for_each_slot(const SlotFn& fn) override;
  void update(float* w, const float* g, int64_t offset, int64_t n) override;

 private:
  AdamaxOptions options_;
  Tensor m_, u_;
};

// Keras Nadam at step t: mu_t = beta_1 (1 - 0.5 * 0.96^t), P_t = mu_1 ... mu_t;
// m += (g - m)(1 - beta_1); v += (g^2 - v)(1 - beta_2);
// w -= lr (mu_{t+1} m / (1 - P_t mu_{t+1}) + (1 - mu_t) g / (1 - P_t)) /
//      (sqrt(v / (1 - beta_2^t)) + epsilon).
struct NadamOptions {
  LearningRate learning_rate = 0.001;
  double beta_1 = 0.9;
  double beta_2 = 0.999;
  double epsilon = 1e-7;
  KILN_OPTIMIZER_COMMON_OPTIONS(0.0)
};

class Nadam : public Optimizer {
 public:
  Nadam(NadamOptions options = {});
  std::string class_name() const override { return "Nadam"; }
  nlohmann::json config() const override;

 protected:
  void build_state(int64_t n) override;
  void for_each_slot(const SlotFn& fn) override;
  void begin_step() override;
  void save_counters(nlohmann::json& counters) const override;
  void load_counters(const nlohmann::json& counters) override;
  void update(float* w, const float* g, int64_t offset, int64_t n) override;

 private:
  NadamOptions options_;
  Tensor m_, v_;
  double u_product_ = 1.0;  // P_t
};

// Keras Lion: w -= lr sign(beta_1 m + (1 - beta_1) g); then m = beta_2 m + (1 - beta_2) g.
struct LionOptions {
  LearningRate learning_rate = 0.001;
  double beta_1 = 0.9;
  double beta_2 = 0.99;
  KILN_OPTIMIZER_COMMON_OPTIONS(0.0)
};

class Lion : public Optimizer {
 public:
  Lion(LionOptions options = {});
  std::string class_name() const override { return "Lion"; }
  nlohmann::json config() const override;

 protected:
  void build_state(int64_t n) override;
  void for_each_slot(const SlotFn& fn) override;
  void update(float* w, const float* g, int64_t offset, int64_t n) override;

 private:
  LionOptions options_;
  Tensor m_;
};

// An optimizer from its Keras name ("sgd", "adam", "adamw", "rmsprop", "adagrad", "adamax",
// "nadam", "lion"; any case) or config ({"class_name": "SGD", "config": {...}}).
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
