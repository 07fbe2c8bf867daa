// The Adam family as Keras writes it: Adam (with amsgrad), AdamW, Adamax and Nadam.
#include <cmath>

#include "kernels/cpu/optimizers.hpp"
#include "optimizers/checks.hpp"

namespace kiln::optimizers {

using detail::require;

Adam::Adam(AdamOptions options) : Adam(options, "Adam") {}

Adam::Adam(AdamOptions options, const char* name)
    : Optimizer(options.learning_rate, detail::common_of(options)), options_(options) {
  detail::require_rate(options_.learning_rate, name);
  detail::require_betas(options_.beta_1, options_.beta_2, name);
  require(options_.epsilon > 0, std::string(name) + " epsilon", options_.epsilon, "positive");
}

void Adam::build_state(int64_t n) {
  m_ = Tensor({n});
  v_ = Tensor({n});
  v_hat_ = options_.amsgrad ? Tensor({n}) : Tensor();
}

void Adam::for_each_slot(const SlotFn& fn) {
  fn("m", m_);
  fn("v", v_);
  if (!v_hat_.empty()) fn("v_hat", v_hat_);
}

void Adam::update(float* w, const float* g, int64_t offset, int64_t n) {
  const auto b1 = static_cast<float>(options_.beta_1), b2 = static_cast<float>(options_.beta_2);
  const auto eps = static_cast<float>(options_.epsilon);
  if (options_.amsgrad)
    cpu::amsgrad_update(w, g, m_.data() + offset, v_.data() + offset, v_hat_.data() + offset, n, step_learning_rate(),
                        b1, b2, eps, iterations());
  else
    cpu::adam_update(w, g, m_.data() + offset, v_.data() + offset, n, step_learning_rate(), b1, b2, eps, iterations());
}

nlohmann::json Adam::config() const {
  nlohmann::json c = common_config();
  c["beta_1"] = options_.beta_1;
  c["beta_2"] = options_.beta_2;
  c["epsilon"] = options_.epsilon;
  c["amsgrad"] = options_.amsgrad;
  return c;
}

namespace {
AdamOptions as_adam(const AdamWOptions& o) {
  return detail::with_common(
      AdamOptions{
          .learning_rate = o.learning_rate, .beta_1 = o.beta_1, .beta_2 = o.beta_2, .epsilon = o.epsilon, .amsgrad = o.amsgrad},
      o);
}
}  // namespace

AdamW::AdamW(AdamWOptions options) : Adam(as_adam(options), "AdamW") {}

Adamax::Adamax(AdamaxOptions options) : Optimizer(options.learning_rate, detail::common_of(options)), options_(options) {
  detail::require_rate(options_.learning_rate, "Adamax");
  detail::require_betas(options_.beta_1, options_.beta_2, "Adamax");
  require(options_.epsilon > 0, "Adamax epsilon", options_.epsilon, "positive");
}

void Adamax::build_state(int64_t n) {
  m_ = Tensor({n});
  u_ = Tensor({n});
}

void Adamax::for_each_slot(const SlotFn& fn) {
  fn("m", m_);
  fn("u", u_);
}

void Adamax::update(float* w, const float* g, int64_t offset, int64_t n) {
  cpu::adamax_update(w, g, m_.data() + offset, u_.data() + offset, n, step_learning_rate(),
                     static_cast<float>(options_.beta_1), static_cast<float>(options_.beta_2),
                     static_cast<float>(options_.epsilon), iterations());
}

nlohmann::json Adamax::config() const {
  nlohmann::json c = common_config();
  c["beta_1"] = options_.beta_1;
  c["beta_2"] = options_.beta_2;
  c["epsilon"] = options_.epsilon;
  return c;
}

Nadam::Nadam(NadamOptions options) : Optimizer(options.learning_rate, detail::common_of(options)), options_(options) {
  detail::require_rate(options_.learning_rate, "Nadam");
  detail::require_betas(options_.beta_1, options_.beta_2, "Nadam");
  require(options_.epsilon > 0, "Nadam epsilon", options_.epsilon, "positive");
}

void Nadam::build_state(int64_t n) {
  m_ = Tensor({n});
  v_ = Tensor({n});
  u_product_ = 1.0;
}

void Nadam::for_each_slot(const SlotFn& fn) {
  fn("m", m_);
  fn("v", v_);
}

void Nadam::save_counters(nlohmann::json& counters) const { counters["u_product"] = u_product_; }

void Nadam::load_counters(const nlohmann::json& counters) {
  if (!counters.contains("u_product") || !counters["u_product"].is_number())
    throw ValueError("Nadam's state needs the counter u_product, received " + counters.dump());
  u_product_ = counters["u_product"].get<double>();
}

namespace {
// Keras's momentum schedule: mu_t = beta_1 (1 - 0.5 * 0.96^t).
double nadam_mu(double beta_1, int64_t t) { return beta_1 * (1.0 - 0.5 * std::pow(0.96, static_cast<double>(t))); }
}  // namespace

// P_t = P_{t-1} mu_t, once per step before the weights are updated, as Keras does.
void Nadam::begin_step() { u_product_ *= nadam_mu(options_.beta_1, iterations()); }

void Nadam::update(float* w, const float* g, int64_t offset, int64_t n) {
  const int64_t t = iterations();
  const double mu_t = nadam_mu(options_.beta_1, t), mu_next = nadam_mu(options_.beta_1, t + 1);
  const cpu::NadamStep step{
      .lr = step_learning_rate(),
      .beta1 = static_cast<float>(options_.beta_1),
      .beta2 = static_cast<float>(options_.beta_2),
      .epsilon = static_cast<float>(options_.epsilon),
      .m_coef = static_cast<float>(mu_next / (1.0 - u_product_ * mu_next)),
      .g_coef = static_cast<float>((1.0 - mu_t) / (1.0 - u_product_)),
      .v_coef = static_cast<float>(1.0 / (1.0 - std::pow(options_.beta_2, static_cast<double>(t))))};
  cpu::nadam_update(w, g, m_.data() + offset, v_.data() + offset, n, step);
}

nlohmann::json Nadam::config() const {
  nlohmann::json c = common_config();
  c["beta_1"] = options_.beta_1;
  c["beta_2"] = options_.beta_2;
  c["epsilon"] = options_.epsilon;
  return c;
}

}  // namespace kiln::optimizers
