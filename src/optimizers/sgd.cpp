// Keras SGD with momentum and Nesterov momentum; the plain rule is offered as a fused step.
#include "kernels/cpu/optimizers.hpp"
#include "optimizers/checks.hpp"

namespace kiln::optimizers {

using detail::require;

SGD::SGD(SGDOptions options) : Optimizer(options.learning_rate, detail::common_of(options)), options_(options) {
  detail::require_rate(options_.learning_rate, "SGD");
  require(options_.momentum >= 0 && options_.momentum < 1, "SGD momentum", options_.momentum, "in [0, 1)");
}

void SGD::build_state(int64_t n) { velocity_ = options_.momentum > 0 ? Tensor({n}) : Tensor(); }

void SGD::for_each_slot(const SlotFn& fn) {
  if (!velocity_.empty()) fn("velocity", velocity_);
}

void SGD::update(float* w, const float* g, int64_t offset, int64_t n) {
  cpu::sgd_update(w, g, velocity_.empty() ? nullptr : velocity_.data() + offset, n, step_learning_rate(),
                  static_cast<float>(options_.momentum), options_.nesterov);
}

// Only the plain rule, with nothing between the gradient and the weights (no state, decay,
// clipping or average).
std::optional<FusedStep> SGD::fused_step() const {
  const auto& c = common();
  if (options_.momentum != 0.0 || c.weight_decay > 0 || c.use_ema || c.clipnorm || c.clipvalue || c.global_clipnorm)
    return std::nullopt;
  return FusedStep{-static_cast<float>(learning_rate())};
}

nlohmann::json SGD::config() const {
  nlohmann::json c = common_config();
  c["momentum"] = options_.momentum;
  c["nesterov"] = options_.nesterov;
  return c;
}

}  // namespace kiln::optimizers
