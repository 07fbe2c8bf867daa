// Keras Lion: the sign of an interpolated momentum as the step.
#include "kernels/cpu/optimizers.hpp"
#include "optimizers/checks.hpp"

namespace kiln::optimizers {

using detail::require;

// beta_1 in (0, 1] as Keras asks (at 0 Lion is sign SGD); beta_2 in [0, 1].
Lion::Lion(LionOptions options) : Optimizer(options.learning_rate, detail::common_of(options)), options_(options) {
  detail::require_rate(options_.learning_rate, "Lion");
  require(options_.beta_1 > 0 && options_.beta_1 <= 1, "Lion beta_1", options_.beta_1, "in (0, 1]");
  require(options_.beta_2 >= 0 && options_.beta_2 <= 1, "Lion beta_2", options_.beta_2, "in [0, 1]");
}

void Lion::build_state(int64_t n) { m_ = Tensor({n}); }

void Lion::for_each_slot(const SlotFn& fn) { fn("m", m_); }

void Lion::update(float* w, const float* g, int64_t offset, int64_t n) {
  cpu::lion_update(w, g, m_.data() + offset, n, step_learning_rate(), static_cast<float>(options_.beta_1),
                   static_cast<float>(options_.beta_2));
}

nlohmann::json Lion::config() const {
  nlohmann::json c = common_config();
  c["beta_1"] = options_.beta_1;
  c["beta_2"] = options_.beta_2;
  return c;
}

}  // namespace kiln::optimizers
