#include "kiln/optimizers.hpp"

#include <algorithm>

#include "io/json_fields.hpp"
#include "kernels/cpu/optimizers.hpp"

namespace kiln {

Optimizer::Optimizer(LearningRate learning_rate, OptimizerCommon common)
    : learning_rate_(std::move(learning_rate)), common_(common) {
  if (!(common.weight_decay >= 0))
    throw ValueError("weight_decay must be >= 0, received " + std::to_string(common.weight_decay));
  if (!(common.ema_momentum >= 0 && common.ema_momentum <= 1))
    throw ValueError("ema_momentum must be in [0, 1], received " + std::to_string(common.ema_momentum));
  if (common.ema_overwrite_frequency < 0)
    throw ValueError("ema_overwrite_frequency must be >= 0 (0: never), received " +
                     std::to_string(common.ema_overwrite_frequency));
}

void Optimizer::build(int64_t n) {
  average_ = common_.use_ema ? Tensor({n}) : Tensor();
  iterations_ = 0;
  build_state(n);
}

void Optimizer::apply(float* w, const float* g, std::span<const WeightRange> ranges) {
  const double rate = learning_rate();
  step_learning_rate_ = static_cast<float>(rate);
  ++iterations_;
  const auto decay = static_cast<float>(common_.weight_decay * rate);
  for (const auto& r : ranges) {
    if (common_.weight_decay > 0) cpu::decay_weights(w + r.offset, r.size, decay);
    update(w + r.offset, g + r.offset, r.offset, r.size);
  }
  if (common_.use_ema) update_average(w, ranges);
}

// Keras's moving average: the first step copies the weights, each later one moves the average
// by (1 - ema_momentum) towards them; every ema_overwrite_frequency steps the weights take it.
void Optimizer::update_average(float* w, std::span<const WeightRange> ranges) {
  const auto momentum = iterations_ == 1 ? 0.0f : static_cast<float>(common_.ema_momentum);
  for (const auto& r : ranges) cpu::moving_average(average_.data() + r.offset, w + r.offset, r.size, momentum);
  const int64_t every = common_.ema_overwrite_frequency;
  if (every > 0 && iterations_ % every == 0) finalize_variable_values(w, ranges);
}

void Optimizer::finalize_variable_values(float* w, std::span<const WeightRange> ranges) const {
  if (!common_.use_ema || iterations_ == 0) return;
  for (const auto& r : ranges) std::copy_n(average_.data() + r.offset, r.size, w + r.offset);
}

void Optimizer::swap_variables(float* w, std::span<const WeightRange> ranges) {
  if (!common_.use_ema || iterations_ == 0) return;
  for (const auto& r : ranges) std::swap_ranges(w + r.offset, w + r.offset + r.size, average_.data() + r.offset);
}

nlohmann::json Optimizer::common_config() const {
  auto or_null = [](auto v) { return v > 0 ? nlohmann::json(v) : nlohmann::json(nullptr); };
  return {{"name", class_name()},
          {"learning_rate", learning_rate_.to_json()},
          {"weight_decay", or_null(common_.weight_decay)},
          {"use_ema", common_.use_ema},
          {"ema_momentum", common_.ema_momentum},
          {"ema_overwrite_frequency", or_null(common_.ema_overwrite_frequency)}};
}

void Optimizer::apply(float* w, const float* g, int64_t n) {
  const WeightRange all{0, n};
  apply(w, g, {&all, 1});
}

void Optimizer::set_learning_rate(double value) {
  if (learning_rate_.schedule())
    throw ValueError(class_name() + "'s learning rate comes from a " + learning_rate_.schedule()->class_name() +
                     " schedule and cannot be set; received " + std::to_string(value));
  if (!(value > 0)) throw ValueError(class_name() + " learning_rate must be positive, received " + std::to_string(value));
  learning_rate_ = value;
}

}  // namespace kiln

namespace kiln::optimizers {

namespace {
void require(bool ok, const std::string& what, double value, const std::string& expected) {
  if (!ok)
    throw ValueError(what + " must be " + expected + ", received " + std::to_string(value));
}

// A constant rate must be positive; a schedule checks its own arguments.
void require_rate(const LearningRate& rate, const std::string& optimizer) {
  if (!rate.schedule())
    require(rate.at(0) > 0, optimizer + " learning_rate", rate.at(0), "positive");
}

double number(const nlohmann::json& cfg, const char* key, const std::string& where, double fallback) {
  return io::get_or<double>(cfg, key, where, "a number", fallback);
}

template <typename Options>
OptimizerCommon common_of(const Options& o) {
  return {.weight_decay = o.weight_decay,
          .use_ema = o.use_ema,
          .ema_momentum = o.ema_momentum,
          .ema_overwrite_frequency = o.ema_overwrite_frequency};
}

// The learning rate and the common arguments from a Keras config (null means the default).
template <typename Options>
void read_common(const nlohmann::json& cfg, const std::string& in, Options& o) {
  o.learning_rate = LearningRate::from_config(cfg, in, o.learning_rate.at(0));
  o.weight_decay = number(cfg, "weight_decay", in, o.weight_decay);
  o.use_ema = io::get_or<bool>(cfg, "use_ema", in, "true or false", o.use_ema);
  o.ema_momentum = number(cfg, "ema_momentum", in, o.ema_momentum);
  o.ema_overwrite_frequency = io::get_or<int64_t>(cfg, "ema_overwrite_frequency", in, "an integer", o.ema_overwrite_frequency);
}
}  // namespace

SGD::SGD(SGDOptions options) : Optimizer(options.learning_rate, common_of(options)), options_(options) {
  require_rate(options_.learning_rate, "SGD");
  require(options_.momentum >= 0 && options_.momentum < 1, "SGD momentum", options_.momentum,
          "in [0, 1)");
}

void SGD::build_state(int64_t n) { velocity_ = options_.momentum > 0 ? Tensor({n}) : Tensor(); }

void SGD::update(float* w, const float* g, int64_t offset, int64_t n) {
  cpu::sgd_update(w, g, velocity_.empty() ? nullptr : velocity_.data() + offset, n,
                  step_learning_rate(), static_cast<float>(options_.momentum),
                  options_.nesterov);
}

std::optional<FusedStep> SGD::fused_step() const {
  if (options_.momentum != 0.0 || weight_decay() > 0 || common().use_ema) return std::nullopt;
  return FusedStep{-static_cast<float>(learning_rate())};
}

nlohmann::json SGD::config() const {
  nlohmann::json c = common_config();
  c["momentum"] = options_.momentum;
  c["nesterov"] = options_.nesterov;
  return c;
}

Adam::Adam(AdamOptions options) : Optimizer(options.learning_rate, common_of(options)), options_(options) {
  require_rate(options_.learning_rate, "Adam");
  require(options_.beta_1 >= 0 && options_.beta_1 < 1, "Adam beta_1", options_.beta_1,
          "in [0, 1)");
  require(options_.beta_2 >= 0 && options_.beta_2 < 1, "Adam beta_2", options_.beta_2,
          "in [0, 1)");
  require(options_.epsilon > 0, "Adam epsilon", options_.epsilon, "positive");
}

void Adam::build_state(int64_t n) {
  m_ = Tensor({n});
  v_ = Tensor({n});
}

void Adam::update(float* w, const float* g, int64_t offset, int64_t n) {
  cpu::adam_update(w, g, m_.data() + offset, v_.data() + offset, n, step_learning_rate(),
                   static_cast<float>(options_.beta_1), static_cast<float>(options_.beta_2),
                   static_cast<float>(options_.epsilon), iterations());
}

nlohmann::json Adam::config() const {
  nlohmann::json c = common_config();
  c["beta_1"] = options_.beta_1;
  c["beta_2"] = options_.beta_2;
  c["epsilon"] = options_.epsilon;
  return c;
}

std::shared_ptr<Optimizer> get(const nlohmann::json& spec) {
  std::string name;
  nlohmann::json cfg = nlohmann::json::object();
  const std::string where = "optimizer config";
  if (spec.is_string()) {
    name = spec.get<std::string>();
  } else if (spec.is_object()) {
    name = io::get_as<std::string>(spec, "class_name", where, "an optimizer name such as \"SGD\"");
    cfg = spec.contains("config") ? spec["config"] : nlohmann::json::object();
    if (!cfg.is_object()) throw ConfigError(where + ": field 'config' must be an object, received " + cfg.dump());
  }
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::string in = where + " (" + name + ")";
  if (name == "sgd") {
    SGDOptions o;
    read_common(cfg, in, o);
    o.momentum = number(cfg, "momentum", in, o.momentum);
    o.nesterov = io::get_or<bool>(cfg, "nesterov", in, "true or false", o.nesterov);
    return std::make_shared<SGD>(o);
  }
  if (name == "adam") {
    AdamOptions o;
    read_common(cfg, in, o);
    o.beta_1 = number(cfg, "beta_1", in, o.beta_1);
    o.beta_2 = number(cfg, "beta_2", in, o.beta_2);
    o.epsilon = number(cfg, "epsilon", in, o.epsilon);
    return std::make_shared<Adam>(o);
  }
  throw ValueError("unknown optimizer " + spec.dump() + "; expected \"sgd\" or \"adam\"");
}

}  // namespace kiln::optimizers
