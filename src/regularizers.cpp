// The L1 / L2 penalties and their Keras configs.
#include "kiln/regularizers.hpp"

#include <cmath>

#include "io/strict_fields.hpp"

namespace kiln {

namespace {

// Keras's validate_float_arg: a finite, non-negative number.
double checked(double value, const char* name) {
  if (!std::isfinite(value) || value < 0)
    throw ValueError(std::string("Invalid value for argument ") + name +
                     ": expected a non-negative float. Received: " + name + "=" +
                     std::to_string(value));
  return value;
}

}  // namespace

Regularizer::Regularizer(double l1, double l2) : l1_(checked(l1, "l1")), l2_(checked(l2, "l2")) {}

double Regularizer::value(const float* w, int64_t n) const {
  double abs_sum = 0, square_sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    abs_sum += std::abs(w[i]);
    square_sum += static_cast<double>(w[i]) * w[i];
  }
  return l1_ * abs_sum + l2_ * square_sum;
}

void Regularizer::add_gradient(float* g, const float* w, int64_t n) const {
  const auto a = static_cast<float>(l1_), b = static_cast<float>(2 * l2_);
  for (int64_t i = 0; i < n; ++i)
    g[i] += a * static_cast<float>((w[i] > 0) - (w[i] < 0)) + b * w[i];
}

namespace regularizers {

nlohmann::json to_config(const RegularizerRef& regularizer) {
  if (!regularizer) return nullptr;
  return {{"module", "keras.regularizers"},
          {"class_name", regularizer->class_name()},
          {"config", regularizer->config()},
          {"registered_name", nullptr}};
}

std::shared_ptr<Regularizer> get(const nlohmann::json& spec) {
  if (spec.is_null()) return nullptr;
  const std::string where = "regularizer config";
  if (spec.is_string()) {
    const std::string name = spec.get<std::string>();
    if (name == "l1" || name == "L1") return std::make_shared<L1>();
    if (name == "l2" || name == "L2") return std::make_shared<L2>();
    if (name == "l1l2" || name == "L1L2") return std::make_shared<L1L2>();
    if (name == "l1_l2") return std::make_shared<L1L2>(0.01, 0.01);
    throw ValueError("unknown regularizer \"" + name +
                     "\"; expected \"l1\", \"l2\", \"l1_l2\" or a class name "
                     "(\"L1\", \"L2\", \"L1L2\")");
  }
  if (!spec.is_object())
    throw ConfigError(where +
                      ": expected a name or {\"class_name\": ..., \"config\": {...}}, received " +
                      spec.dump());
  const std::string name =
      io::get_as<std::string>(spec, "class_name", where, "a regularizer name such as \"L2\"");
  const nlohmann::json cfg = spec.contains("config") ? spec["config"] : nlohmann::json::object();
  if (!cfg.is_object())
    throw ConfigError(where + ": field 'config' must be an object, received " + cfg.dump());
  const std::string in = where + " (" + name + ")";
  auto check_fields = [&](std::initializer_list<const char*> known) { io::reject_unknown_fields(cfg, known, in); };
  auto number = [&](const char* key, double fallback) {
    return io::get_or<double>(cfg, key, in, "a number", fallback);
  };
  if (name == "L1" || name == "l1") {
    check_fields({"l1"});
    return std::make_shared<L1>(number("l1", 0.01));
  }
  if (name == "L2" || name == "l2") {
    check_fields({"l2"});
    return std::make_shared<L2>(number("l2", 0.01));
  }
  if (name == "L1L2" || name == "l1l2" || name == "l1_l2") {
    check_fields({"l1", "l2"});
    return std::make_shared<L1L2>(number("l1", 0.0), number("l2", 0.0));
  }
  throw ValueError("unknown regularizer " + spec.dump() +
                   "; expected class_name \"L1\", \"L2\" or \"L1L2\"");
}

}  // namespace regularizers
}  // namespace kiln
