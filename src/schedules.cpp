#include "kiln/schedules.hpp"

#include <cmath>
#include <numbers>

#include "io/json_fields.hpp"
#include "kiln/error.hpp"

namespace kiln::schedules {

namespace {

// Step counts are integers in Keras's configs but may be written as 1000.0; both read back.
nlohmann::json number_json(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::abs(v) < 9e15) return static_cast<int64_t>(v);
  return v;
}

double required(const nlohmann::json& cfg, const char* key, const std::string& where) {
  return io::get_as<double>(cfg, key, where, "a number");
}

double optional(const nlohmann::json& cfg, const char* key, const std::string& where, double fallback) {
  return io::get_or<double>(cfg, key, where, "a number", fallback);
}

bool flag(const nlohmann::json& cfg, const char* key, const std::string& where, bool fallback) {
  return io::get_or<bool>(cfg, key, where, "true or false", fallback);
}

std::string name_or(const nlohmann::json& cfg, const std::string& where, const std::string& fallback) {
  return io::get_or<std::string>(cfg, "name", where, "a string", fallback);
}

std::vector<double> numbers(const nlohmann::json& cfg, const char* key, const std::string& where) {
  const auto& v = io::field(cfg, key, where);
  if (!v.is_array()) throw ConfigError(where + ": field '" + key + "' must be a list of numbers, received " + v.dump());
  std::vector<double> out;
  for (const auto& x : v) {
    if (!x.is_number())
      throw ConfigError(where + ": field '" + key + "' must be a list of numbers, received " + x.dump() + " in it");
    out.push_back(x.get<double>());
  }
  return out;
}

void require_positive(const std::string& schedule, const char* what, double value) {
  if (!(value > 0))
    throw ValueError(schedule + " " + what + " must be positive, received " + std::to_string(value));
}

// ---- Each schedule: its Keras name, checks, formula, config and reader. ----

const char* keras_name(const ExponentialDecayOptions&) { return "ExponentialDecay"; }
const char* keras_name(const InverseTimeDecayOptions&) { return "InverseTimeDecay"; }
const char* keras_name(const PiecewiseConstantDecayOptions&) { return "PiecewiseConstantDecay"; }
const char* keras_name(const PolynomialDecayOptions&) { return "PolynomialDecay"; }
const char* keras_name(const CosineDecayOptions&) { return "CosineDecay"; }
const char* keras_name(const CosineDecayRestartsOptions&) { return "CosineDecayRestarts"; }

void check(const ExponentialDecayOptions& o) { require_positive("ExponentialDecay", "decay_steps", o.decay_steps); }
void check(const InverseTimeDecayOptions& o) { require_positive("InverseTimeDecay", "decay_steps", o.decay_steps); }
void check(const PolynomialDecayOptions& o) { require_positive("PolynomialDecay", "decay_steps", o.decay_steps); }
void check(const CosineDecayOptions& o) {
  require_positive("CosineDecay", "decay_steps", o.decay_steps);
  if (o.warmup_steps < 0)
    throw ValueError("CosineDecay warmup_steps must be >= 0, received " + std::to_string(o.warmup_steps));
}
void check(const CosineDecayRestartsOptions& o) {
  require_positive("CosineDecayRestarts", "first_decay_steps", o.first_decay_steps);
  require_positive("CosineDecayRestarts", "t_mul", o.t_mul);
}
void check(const PiecewiseConstantDecayOptions& o) {
  if (o.values.size() != o.boundaries.size() + 1)
    throw ValueError("PiecewiseConstantDecay needs one more value than boundaries, received " +
                     std::to_string(o.boundaries.size()) + " boundaries and " + std::to_string(o.values.size()) +
                     " values");
  for (size_t i = 1; i < o.boundaries.size(); ++i)
    if (!(o.boundaries[i] > o.boundaries[i - 1]))
      throw ValueError("PiecewiseConstantDecay boundaries must increase, received " +
                       nlohmann::json(o.boundaries).dump());
}

double rate(const ExponentialDecayOptions& o, double step) {
  double p = step / o.decay_steps;
  return o.initial_learning_rate * std::pow(o.decay_rate, o.staircase ? std::floor(p) : p);
}

double rate(const InverseTimeDecayOptions& o, double step) {
  double p = step / o.decay_steps;
  return o.initial_learning_rate / (1.0 + o.decay_rate * (o.staircase ? std::floor(p) : p));
}

double rate(const PiecewiseConstantDecayOptions& o, double step) {
  for (size_t i = 0; i < o.boundaries.size(); ++i)
    if (step <= o.boundaries[i]) return o.values[i];
  return o.values.back();
}

double rate(const PolynomialDecayOptions& o, double step) {
  double steps = o.decay_steps;
  if (o.cycle)
    steps *= step == 0 ? 1.0 : std::ceil(step / o.decay_steps);
  else
    step = std::min(step, steps);
  return (o.initial_learning_rate - o.end_learning_rate) * std::pow(1.0 - step / steps, o.power) +
         o.end_learning_rate;
}

// (1 - alpha) * half a cosine period through `fraction` + alpha.
double cosine(double fraction, double alpha) {
  return (1.0 - alpha) * 0.5 * (1.0 + std::cos(std::numbers::pi * fraction)) + alpha;
}

double rate(const CosineDecayOptions& o, double step) {
  if (!o.warmup_target) return o.initial_learning_rate * cosine(std::min(step, o.decay_steps) / o.decay_steps, o.alpha);
  step = std::min(step, o.decay_steps + o.warmup_steps);
  if (step < o.warmup_steps)
    return (*o.warmup_target - o.initial_learning_rate) * (step / o.warmup_steps) + o.initial_learning_rate;
  return *o.warmup_target * cosine((step - o.warmup_steps) / o.decay_steps, o.alpha);
}

double rate(const CosineDecayRestartsOptions& o, double step) {
  double fraction = step / o.first_decay_steps, restart;
  if (o.t_mul == 1.0) {
    restart = std::floor(fraction);
    fraction -= restart;
  } else {
    // Period i lasts t_mul^i first periods; find the period that holds `fraction`.
    restart = std::floor(std::log(1.0 - fraction * (1.0 - o.t_mul)) / std::log(o.t_mul));
    double before = (1.0 - std::pow(o.t_mul, restart)) / (1.0 - o.t_mul);
    fraction = (fraction - before) / std::pow(o.t_mul, restart);
  }
  double scaled = std::pow(o.m_mul, restart) * 0.5 * (1.0 + std::cos(std::numbers::pi * fraction));
  return o.initial_learning_rate * ((1.0 - o.alpha) * scaled + o.alpha);
}

nlohmann::json to_config(const ExponentialDecayOptions& o) {
  return {{"initial_learning_rate", o.initial_learning_rate}, {"decay_steps", number_json(o.decay_steps)},
          {"decay_rate", o.decay_rate}, {"staircase", o.staircase}, {"name", o.name}};
}
nlohmann::json to_config(const InverseTimeDecayOptions& o) {
  return {{"initial_learning_rate", o.initial_learning_rate}, {"decay_steps", number_json(o.decay_steps)},
          {"decay_rate", o.decay_rate}, {"staircase", o.staircase}, {"name", o.name}};
}
nlohmann::json to_config(const PiecewiseConstantDecayOptions& o) {
  nlohmann::json boundaries = nlohmann::json::array();
  for (double b : o.boundaries) boundaries.push_back(number_json(b));
  return {{"boundaries", boundaries}, {"values", o.values}, {"name", o.name}};
}
nlohmann::json to_config(const PolynomialDecayOptions& o) {
  return {{"initial_learning_rate", o.initial_learning_rate}, {"decay_steps", number_json(o.decay_steps)},
          {"end_learning_rate", o.end_learning_rate}, {"power", o.power}, {"cycle", o.cycle}, {"name", o.name}};
}
nlohmann::json to_config(const CosineDecayOptions& o) {
  return {{"initial_learning_rate", o.initial_learning_rate}, {"decay_steps", number_json(o.decay_steps)},
          {"alpha", o.alpha}, {"name", o.name},
          {"warmup_target", o.warmup_target ? nlohmann::json(*o.warmup_target) : nlohmann::json(nullptr)},
          {"warmup_steps", number_json(o.warmup_steps)}};
}
nlohmann::json to_config(const CosineDecayRestartsOptions& o) {
  return {{"initial_learning_rate", o.initial_learning_rate}, {"first_decay_steps", number_json(o.first_decay_steps)},
          {"t_mul", o.t_mul}, {"m_mul", o.m_mul}, {"alpha", o.alpha}, {"name", o.name}};
}

template <typename Options>
Options read(const nlohmann::json& cfg, const std::string& where);

template <>
ExponentialDecayOptions read(const nlohmann::json& c, const std::string& w) {
  ExponentialDecayOptions o;
  return {required(c, "initial_learning_rate", w), required(c, "decay_steps", w), required(c, "decay_rate", w),
          flag(c, "staircase", w, o.staircase), name_or(c, w, o.name)};
}
template <>
InverseTimeDecayOptions read(const nlohmann::json& c, const std::string& w) {
  InverseTimeDecayOptions o;
  return {required(c, "initial_learning_rate", w), required(c, "decay_steps", w), required(c, "decay_rate", w),
          flag(c, "staircase", w, o.staircase), name_or(c, w, o.name)};
}
template <>
PiecewiseConstantDecayOptions read(const nlohmann::json& c, const std::string& w) {
  PiecewiseConstantDecayOptions o;
  return {numbers(c, "boundaries", w), numbers(c, "values", w), name_or(c, w, o.name)};
}
template <>
PolynomialDecayOptions read(const nlohmann::json& c, const std::string& w) {
  PolynomialDecayOptions o;
  return {required(c, "initial_learning_rate", w), required(c, "decay_steps", w),
          optional(c, "end_learning_rate", w, o.end_learning_rate), optional(c, "power", w, o.power),
          flag(c, "cycle", w, o.cycle), name_or(c, w, o.name)};
}
template <>
CosineDecayOptions read(const nlohmann::json& c, const std::string& w) {
  CosineDecayOptions o;
  o.initial_learning_rate = required(c, "initial_learning_rate", w);
  o.decay_steps = required(c, "decay_steps", w);
  o.alpha = optional(c, "alpha", w, o.alpha);
  o.name = name_or(c, w, o.name);
  if (c.contains("warmup_target") && !c["warmup_target"].is_null()) o.warmup_target = required(c, "warmup_target", w);
  o.warmup_steps = optional(c, "warmup_steps", w, o.warmup_steps);
  return o;
}
template <>
CosineDecayRestartsOptions read(const nlohmann::json& c, const std::string& w) {
  CosineDecayRestartsOptions o;
  return {required(c, "initial_learning_rate", w), required(c, "first_decay_steps", w), optional(c, "t_mul", w, o.t_mul),
          optional(c, "m_mul", w, o.m_mul), optional(c, "alpha", w, o.alpha), name_or(c, w, o.name)};
}

template <typename Options>
std::shared_ptr<const LearningRateSchedule> make(const nlohmann::json& cfg, const std::string& where) {
  return std::make_shared<const Schedule<Options>>(read<Options>(cfg, where));
}

}  // namespace

template <typename Options>
Schedule<Options>::Schedule(Options options) : options_(std::move(options)) {
  check(options_);
}

template <typename Options>
std::string Schedule<Options>::class_name() const {
  return keras_name(options_);
}

template <typename Options>
double Schedule<Options>::operator()(int64_t step) const {
  return rate(options_, static_cast<double>(step));
}

template <typename Options>
nlohmann::json Schedule<Options>::config() const {
  return to_config(options_);
}

template class Schedule<ExponentialDecayOptions>;
template class Schedule<InverseTimeDecayOptions>;
template class Schedule<PiecewiseConstantDecayOptions>;
template class Schedule<PolynomialDecayOptions>;
template class Schedule<CosineDecayOptions>;
template class Schedule<CosineDecayRestartsOptions>;

nlohmann::json serialize(const LearningRateSchedule& schedule) {
  return {{"module", "keras.optimizers.schedules"},
          {"class_name", schedule.class_name()},
          {"config", schedule.config()},
          {"registered_name", nullptr}};
}

std::shared_ptr<const LearningRateSchedule> deserialize(const nlohmann::json& spec, const std::string& where) {
  const auto name = io::get_as<std::string>(spec, "class_name", where, "a schedule name such as \"CosineDecay\"");
  const std::string in = where + " (" + name + ")";
  const auto& cfg = io::field(spec, "config", in);
  if (!cfg.is_object()) throw ConfigError(in + ": field 'config' must be an object, received " + cfg.dump());
  if (name == "ExponentialDecay") return make<ExponentialDecayOptions>(cfg, in);
  if (name == "InverseTimeDecay") return make<InverseTimeDecayOptions>(cfg, in);
  if (name == "PiecewiseConstantDecay") return make<PiecewiseConstantDecayOptions>(cfg, in);
  if (name == "PolynomialDecay") return make<PolynomialDecayOptions>(cfg, in);
  if (name == "CosineDecay") return make<CosineDecayOptions>(cfg, in);
  if (name == "CosineDecayRestarts") return make<CosineDecayRestartsOptions>(cfg, in);
  throw ConfigError(where + ": unknown learning-rate schedule \"" + name +
                    "\"; expected ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay, PolynomialDecay, "
                    "CosineDecay or CosineDecayRestarts");
}

}  // namespace kiln::schedules

namespace kiln {

LearningRate::LearningRate(std::shared_ptr<const LearningRateSchedule> schedule) : schedule_(std::move(schedule)) {
  if (!schedule_) throw ValueError("a learning-rate schedule must not be null");
}

nlohmann::json LearningRate::to_json() const {
  return schedule_ ? schedules::serialize(*schedule_) : nlohmann::json(value_);
}

LearningRate LearningRate::from_config(const nlohmann::json& config, const std::string& where, double fallback) {
  if (!config.is_object() || !config.contains("learning_rate") || config["learning_rate"].is_null()) return fallback;
  const auto& v = config["learning_rate"];
  if (v.is_object()) return LearningRate(schedules::deserialize(v, where + ": learning_rate"));
  return io::get_as<double>(config, "learning_rate", where, "a number or a learning-rate schedule");
}

}  // namespace kiln
