// Learning-rate schedules: the rate an optimizer uses at each step, with Keras's names, arguments,
// defaults and formulas (keras.optimizers.schedules), saved in compile_config as Keras
// serializes them. An optimizer takes a schedule wherever it takes a learning rate.
#pragma once

#include <concepts>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace kiln {

class LearningRateSchedule {
 public:
  virtual ~LearningRateSchedule() = default;
  virtual std::string class_name() const = 0;  // "CosineDecay"
  // The rate of the update that follows `step` earlier updates (Keras calls the schedule with
  // optimizer.iterations, which counts from 0).
  virtual double operator()(int64_t step) const = 0;
  // Keras's get_config(): the constructor's arguments by name.
  virtual nlohmann::json config() const = 0;
};

namespace schedules {

// initial_learning_rate * decay_rate ^ (step / decay_steps), the exponent floored when staircase.
struct ExponentialDecayOptions {
  double initial_learning_rate = 0.0;
  double decay_steps = 0.0;
  double decay_rate = 0.0;
  bool staircase = false;
  std::string name = "ExponentialDecay";
};

// initial_learning_rate / (1 + decay_rate * step / decay_steps), the ratio floored when staircase.
struct InverseTimeDecayOptions {
  double initial_learning_rate = 0.0;
  double decay_steps = 0.0;
  double decay_rate = 0.0;
  bool staircase = false;
  std::string name = "InverseTimeDecay";
};

// values[0] while step <= boundaries[0], values[i] while boundaries[i-1] < step <= boundaries[i],
// values.back() after the last boundary.
struct PiecewiseConstantDecayOptions {
  std::vector<double> boundaries;
  std::vector<double> values;
  std::string name = "PiecewiseConstant";
};

// (initial - end) * (1 - step / decay_steps) ^ power + end, with step capped at decay_steps; when
// cycle, decay_steps becomes the first multiple of itself at or above step.
struct PolynomialDecayOptions {
  double initial_learning_rate = 0.0;
  double decay_steps = 0.0;
  double end_learning_rate = 0.0001;
  double power = 1.0;
  bool cycle = false;
  std::string name = "PolynomialDecay";
};

// Without warmup_target: initial * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, decay_steps) /
// decay_steps)) + alpha). With it: a straight line from initial to warmup_target over warmup_steps,
// then the same cosine from warmup_target.
struct CosineDecayOptions {
  double initial_learning_rate = 0.0;
  double decay_steps = 0.0;
  double alpha = 0.0;
  std::string name = "CosineDecay";
  std::optional<double> warmup_target;
  double warmup_steps = 0.0;
};

// Cosine decay from initial to initial * alpha over first_decay_steps, then restarts, each period
// t_mul times longer and starting m_mul times lower than the one before (SGDR).
struct CosineDecayRestartsOptions {
  double initial_learning_rate = 0.0;
  double first_decay_steps = 0.0;
  double t_mul = 2.0;
  double m_mul = 1.0;
  double alpha = 0.0;
  std::string name = "SGDRDecay";
};

// One class per schedule, named as Keras names it; the options hold its constructor's arguments
// and are checked when it is made (decay steps must be positive, and so on).
template <typename Options>
class Schedule : public LearningRateSchedule {
 public:
  explicit Schedule(Options options);
  std::string class_name() const override;
  double operator()(int64_t step) const override;
  nlohmann::json config() const override;
  const Options& options() const { return options_; }

 private:
  Options options_;
};

using ExponentialDecay = Schedule<ExponentialDecayOptions>;
using InverseTimeDecay = Schedule<InverseTimeDecayOptions>;
using PiecewiseConstantDecay = Schedule<PiecewiseConstantDecayOptions>;
using PolynomialDecay = Schedule<PolynomialDecayOptions>;
using CosineDecay = Schedule<CosineDecayOptions>;
using CosineDecayRestarts = Schedule<CosineDecayRestartsOptions>;

// Keras's serialized form: {"module": "keras.optimizers.schedules", "class_name": "CosineDecay",
// "config": {...}, "registered_name": null}.
nlohmann::json serialize(const LearningRateSchedule& schedule);
// The schedule such a form describes ("module" and "registered_name" may be absent). Throws
// ConfigError naming `where`, the field and the value for anything it cannot read.
std::shared_ptr<const LearningRateSchedule> deserialize(const nlohmann::json& spec, const std::string& where);

}  // namespace schedules

// An optimizer's learning rate: a constant, or a schedule read at every step. Converts from a
// number (.learning_rate = 0.01) and from any schedule (.learning_rate = schedules::CosineDecay(...)).
class LearningRate {
 public:
  LearningRate(double value) : value_(value) {}
  LearningRate(std::shared_ptr<const LearningRateSchedule> schedule);
  template <std::derived_from<LearningRateSchedule> S>
  LearningRate(S schedule) : LearningRate(std::make_shared<const S>(std::move(schedule))) {}

  // The rate for the update after `step` earlier updates.
  double at(int64_t step) const { return schedule_ ? (*schedule_)(step) : value_; }
  const LearningRateSchedule* schedule() const { return schedule_.get(); }
  // As Keras writes it in an optimizer's config: a number, or the schedule's serialized form.
  nlohmann::json to_json() const;
  // Reads the "learning_rate" field of an optimizer config (a number or a schedule), or fallback
  // when it is absent.
  static LearningRate from_config(const nlohmann::json& config, const std::string& where, double fallback);

 private:
  double value_ = 0.0;
  std::shared_ptr<const LearningRateSchedule> schedule_;
};

}  // namespace kiln
