#include "kiln/optimizers.hpp"

#include "io/json_fields.hpp"
#include "kernels/cpu/optimizers.hpp"

namespace kiln {

Optimizer::Optimizer(LearningRate learning_rate, double weight_decay)
    : learning_rate_(std::move(learning_rate)), weight_decay_(weight_decay) {
  if (!(weight_decay >= 0))
    throw ValueError("weight_decay must be >= 0, received " + std::to_string(weight_decay));
}

void Optimizer::apply(float* w, const float* g, std::span<const WeightRange> ranges) {
  const double rate = learning_rate();
  step_learning_rate_ = static_cast<float>(rate);
  ++iterations_;
  const auto decay = static_cast<float>(weight_decay_ * rate);
  for (const auto& r : ranges) {
    if (weight_decay_ > 0) cpu::decay_weights(w + r.offset, r.size, decay);
    update(w + r.offset, g + r.offset, r.offset, r.size);
  }
}

nlohmann::json Optimizer::common_config() const {
  return {{"name", class_name()},
          {"learning_rate", learning_rate_.to_json()},
          {"weight_decay", weight_decay_ > 0 ? nlohmann::json(weight_decay_) : nlohmann::json(nullptr)}};
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
}  // namespace

SGD::SGD(SGDOptions options) : Optimizer(options.learning_rate, options.weight_decay), options_(options) {
  require_rate(options_.learning_rate, "SGD");
  require(options_.momentum >= 0 && options_.momentum < 1, "SGD momentum", options_.momentum,
          "in [0, 1)");
}

void SGD::build(int64_t n) {
  velocity_ = options_.momentum > 0 ? Tensor({n}) : Tensor();
  iterations_ = 0;
}

void SGD::update(float* w, const float* g, int64_t offset, int64_t n) {
  cpu::sgd_update(w, g, velocity_.empty() ? nullptr : velocity_.data() + offset, n,
                  step_learning_rate(), static_cast<float>(options_.momentum),
                  options_.nesterov);
}

std::optional<FusedStep> SGD::fused_step() const {
  if (options_.momentum != 0.0 || weight_decay() > 0) return std::nullopt;
  return FusedStep{-static_cast<float>(learning_rate())};
}

nlohmann::json SGD::config() const {
  nlohmann::json c = common_config();
  c["momentum"] = options_.momentum;
  c["nesterov"] = options_.nesterov;
  return c;
}

Adam::Adam(AdamOptions options) : Optimizer(options.learning_rate, options.weight_decay), options_(options) {
  require_rate(options_.learning_rate, "Adam");
  require(options_.beta_1 >= 0 && options_.beta_1 < 1, "Adam beta_1", options_.beta_1,
          "in [0, 1)");
  require(options_.beta_2 >= 0 && options_.beta_2 < 1, "Adam beta_2", options_.beta_2,
          "in [0, 1)");
  require(options_.epsilon > 0, "Adam epsilon", options_.epsilon, "positive");
}

void Adam::build(int64_t n) {
  m_ = Tensor({n});
  v_ = Tensor({n});
  iterations_ = 0;
}

void Adam::update(float* w, const float* g, int64_t offset, int64_t n) {
  cpu::adam_update(w, g, m_.data() + offset, v_.data() + offset, n, step_learning_rate(),
                   static_cast<float>(options_.beta_1), static_cast<float>(options_.beta_2),
                   static_cast<float>(options_.epsilon), iterations_);
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
    o.learning_rate = LearningRate::from_config(cfg, in, o.learning_rate.at(0));
    o.momentum = number(cfg, "momentum", in, o.momentum);
    o.nesterov = io::get_or<bool>(cfg, "nesterov", in, "true or false", o.nesterov);
    o.weight_decay = number(cfg, "weight_decay", in, o.weight_decay);
    return std::make_shared<SGD>(o);
  }
  if (name == "adam") {
    AdamOptions o;
    o.learning_rate = LearningRate::from_config(cfg, in, o.learning_rate.at(0));
    o.beta_1 = number(cfg, "beta_1", in, o.beta_1);
    o.beta_2 = number(cfg, "beta_2", in, o.beta_2);
    o.epsilon = number(cfg, "epsilon", in, o.epsilon);
    o.weight_decay = number(cfg, "weight_decay", in, o.weight_decay);
    return std::make_shared<Adam>(o);
  }
  throw ValueError("unknown optimizer " + spec.dump() + "; expected \"sgd\" or \"adam\"");
}

}  // namespace kiln::optimizers
