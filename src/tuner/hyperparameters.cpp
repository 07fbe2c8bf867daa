// The search space: declaring hyperparameters, their defaults, and drawing values with Keras
// Tuner's arithmetic (a cumulative probability mapped onto a range, a grid of steps or a list).
#include <cmath>
#include <sstream>

#include "kiln/error.hpp"
#include "kiln/random.hpp"
#include "kiln/tuner.hpp"

namespace kiln::tuner {

namespace {

// Keras Tuner's prob_to_index.
int64_t index_of(double prob, int64_t n) {
  return std::min<int64_t>(n - 1, static_cast<int64_t>(prob * n));
}

// The number of steps from min_value to max_value (Keras Tuner's _get_n_values).
int64_t grid_size(const HyperParameter& hp) {
  if (hp.sampling == "linear")
    return static_cast<int64_t>(std::floor((hp.max_value - hp.min_value) / hp.step)) + 1;
  return static_cast<int64_t>(std::log(hp.max_value / hp.min_value) / std::log(hp.step) + 1e-8) + 1;
}

double grid_value(const HyperParameter& hp, int64_t index) {
  return hp.sampling == "linear" ? hp.min_value + index * hp.step
                                 : hp.min_value * std::pow(hp.step, index);
}

// A continuous range's value at prob, up to `max_value`.
double continuous(const HyperParameter& hp, double prob, double max_value) {
  if (hp.sampling == "linear") return prob * (max_value - hp.min_value) + hp.min_value;
  return hp.min_value * std::pow(max_value / hp.min_value, prob);
}

std::string num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

void check_range(const HyperParameter& hp) {
  const std::string where = hp.type + " hyperparameter '" + hp.name + "'";
  if (hp.sampling != "linear" && hp.sampling != "log")
    throw ValueError(where + ": sampling must be \"linear\" or \"log\", received \"" + hp.sampling +
                     "\"");
  if (!(hp.min_value <= hp.max_value))
    throw ValueError(where + ": min_value must not exceed max_value, received " +
                     num(hp.min_value) + " and " + num(hp.max_value));
  if (hp.sampling == "log" && !(hp.min_value > 0))
    throw ValueError(where + ": log sampling needs min_value > 0, received " + num(hp.min_value));
  if (hp.step < 0 || (hp.type == "int" && hp.step < 1))
    throw ValueError(where + ": step must be " +
                     (hp.type == "int" ? "at least 1" : "0 (none) or positive") + ", received " +
                     num(hp.step));
}

}  // namespace

nlohmann::json HyperParameter::value_at(double prob) const {
  if (type == "fixed") return values.at(0);
  if (type == "boolean") return prob >= 0.5;
  if (type == "choice") return values.at(index_of(prob, static_cast<int64_t>(values.size())));
  const bool grid = sampling == "linear" ? step > 0 : step > 1;
  if (type == "int") {
    if (grid)
      return static_cast<int64_t>(
          std::llround(grid_value(*this, index_of(prob, grid_size(*this)))));
    return std::min(static_cast<int64_t>(max_value),
                    static_cast<int64_t>(continuous(*this, prob, max_value + 1)));
  }
  return grid ? grid_value(*this, index_of(prob, grid_size(*this)))
              : continuous(*this, prob, max_value);
}

nlohmann::json HyperParameter::default_value() const {
  if (type == "boolean") return false;
  if (type == "choice" || type == "fixed") return values.at(0);
  if (type == "int") return static_cast<int64_t>(min_value);
  return min_value;
}

HyperParameters::HyperParameters(std::vector<HyperParameter> space, nlohmann::ordered_json values)
    : space_(std::move(space)), values_(std::move(values)) {}

nlohmann::json HyperParameters::declare(HyperParameter hp) {
  if (hp.name.empty()) throw ValueError("a hyperparameter needs a name, received an empty one");
  bool known = false;
  for (const auto& h : space_) known = known || h.name == hp.name;
  if (!known) space_.push_back(hp);
  if (!values_.contains(hp.name)) values_[hp.name] = hp.default_value();
  return values_[hp.name];
}

int64_t HyperParameters::Int(const std::string& name, int64_t min_value, int64_t max_value,
                             int64_t step, const std::string& sampling) {
  HyperParameter hp{.name = name,
                    .type = "int",
                    .min_value = static_cast<double>(min_value),
                    .max_value = static_cast<double>(max_value),
                    .step = static_cast<double>(step),
                    .sampling = sampling};
  check_range(hp);
  return declare(hp).get<int64_t>();
}

double HyperParameters::Float(const std::string& name, double min_value, double max_value,
                              double step, const std::string& sampling) {
  HyperParameter hp{.name = name,
                    .type = "float",
                    .min_value = min_value,
                    .max_value = max_value,
                    .step = step,
                    .sampling = sampling};
  check_range(hp);
  return declare(hp).get<double>();
}

nlohmann::json HyperParameters::Choice(const std::string& name, const nlohmann::json& values) {
  if (!values.is_array() || values.empty())
    throw ValueError("choice hyperparameter '" + name +
                     "': values must be a non-empty list, received " + values.dump());
  for (const auto& v : values)
    if (v.type_name() != values[0].type_name() && !(v.is_number() && values[0].is_number()))
      throw ValueError("choice hyperparameter '" + name +
                       "': values must be all strings, all numbers or all " +
                       "booleans, received " + values.dump());
  return declare({.name = name, .type = "choice", .values = values});
}

bool HyperParameters::Boolean(const std::string& name) {
  return declare({.name = name, .type = "boolean"}).get<bool>();
}

nlohmann::json HyperParameters::Fixed(const std::string& name, const nlohmann::json& value) {
  return declare({.name = name, .type = "fixed", .values = nlohmann::json::array({value})});
}

nlohmann::json HyperParameters::get(const std::string& name) const {
  if (values_.contains(name)) return values_[name];
  std::string known;
  for (const auto& [key, _] : values_.items()) known += (known.empty() ? "" : ", ") + key;
  throw ValueError("no hyperparameter '" + name + "'; the space has " +
                   (known.empty() ? "none" : known));
}

nlohmann::ordered_json HyperParameters::random_values(uint64_t seed) const {
  Rng rng(seed);
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const auto& hp : space_) out[hp.name] = hp.value_at(rng.uniform());
  return out;
}

}  // namespace kiln::tuner
