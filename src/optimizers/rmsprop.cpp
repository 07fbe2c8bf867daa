// Keras's per-weight rate scalers without bias correction: RMSprop (momentum, centered) and Adagrad.
#include <algorithm>

#include "kernels/cpu/optimizers.hpp"
#include "optimizers/checks.hpp"

namespace kiln::optimizers {

using detail::require;

RMSprop::RMSprop(RMSpropOptions options) : Optimizer(options.learning_rate, detail::common_of(options)), options_(options) {
  detail::require_rate(options_.learning_rate, "RMSprop");
  require(options_.rho >= 0 && options_.rho < 1, "RMSprop rho", options_.rho, "in [0, 1)");
  require(options_.momentum >= 0 && options_.momentum < 1, "RMSprop momentum", options_.momentum, "in [0, 1)");
  require(options_.epsilon > 0, "RMSprop epsilon", options_.epsilon, "positive");
}

void RMSprop::build_state(int64_t n) {
  velocity_ = Tensor({n});
  momentum_ = options_.momentum > 0 ? Tensor({n}) : Tensor();
  average_gradient_ = options_.centered ? Tensor({n}) : Tensor();
}

void RMSprop::for_each_slot(const SlotFn& fn) {
  fn("velocity", velocity_);
  if (!momentum_.empty()) fn("momentum", momentum_);
  if (!average_gradient_.empty()) fn("average_gradient", average_gradient_);
}

void RMSprop::update(float* w, const float* g, int64_t offset, int64_t n) {
  float* s = momentum_.empty() ? nullptr : momentum_.data() + offset;
  float* avg = average_gradient_.empty() ? nullptr : average_gradient_.data() + offset;
  cpu::rmsprop_update(w, g, velocity_.data() + offset, s, avg, n, step_learning_rate(),
                      static_cast<float>(options_.rho), static_cast<float>(options_.momentum),
                      static_cast<float>(options_.epsilon));
}

nlohmann::json RMSprop::config() const {
  nlohmann::json c = common_config();
  c["rho"] = options_.rho;
  c["momentum"] = options_.momentum;
  c["epsilon"] = options_.epsilon;
  c["centered"] = options_.centered;
  return c;
}

Adagrad::Adagrad(AdagradOptions options) : Optimizer(options.learning_rate, detail::common_of(options)), options_(options) {
  detail::require_rate(options_.learning_rate, "Adagrad");
  require(options_.initial_accumulator_value >= 0, "Adagrad initial_accumulator_value",
          options_.initial_accumulator_value, ">= 0");
  require(options_.epsilon > 0, "Adagrad epsilon", options_.epsilon, "positive");
}

void Adagrad::build_state(int64_t n) {
  accumulator_ = Tensor({n});
  std::fill_n(accumulator_.data(), n, static_cast<float>(options_.initial_accumulator_value));
}

void Adagrad::for_each_slot(const SlotFn& fn) { fn("accumulator", accumulator_); }

void Adagrad::update(float* w, const float* g, int64_t offset, int64_t n) {
  cpu::adagrad_update(w, g, accumulator_.data() + offset, n, step_learning_rate(), static_cast<float>(options_.epsilon));
}

nlohmann::json Adagrad::config() const {
  nlohmann::json c = common_config();
  c["initial_accumulator_value"] = options_.initial_accumulator_value;
  c["epsilon"] = options_.epsilon;
  return c;
}

}  // namespace kiln::optimizers
