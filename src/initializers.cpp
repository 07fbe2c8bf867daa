#include "kiln/initializers.hpp"

#include <cmath>
#include <utility>

namespace kiln::initializers {

namespace {

struct Known {
  const char* name;
  const char* class_name;
};
constexpr Known kKnown[] = {
    {"glorot_uniform", "GlorotUniform"}, {"glorot_normal", "GlorotNormal"},
    {"he_uniform", "HeUniform"},         {"he_normal", "HeNormal"},
    {"lecun_uniform", "LecunUniform"},   {"lecun_normal", "LecunNormal"},
    {"zeros", "Zeros"},                  {"ones", "Ones"},
};

std::string known_list() {
  std::string s;
  for (const auto& k : kKnown) s += (s.empty() ? "" : ", ") + std::string(k.name);
  return s;
}

std::pair<double, double> fans(const Shape& shape) {
  if (shape.size() < 2) {
    double n = shape.empty() ? 1.0 : static_cast<double>(shape[0]);
    return {n, n};
  }
  double receptive = 1.0;
  for (size_t i = 0; i + 2 < shape.size(); ++i) receptive *= static_cast<double>(shape[i]);
  return {static_cast<double>(shape[shape.size() - 2]) * receptive,
          static_cast<double>(shape.back()) * receptive};
}

}  // namespace

void fill(const std::string& name, Tensor& t, Rng& rng) {
  auto [fan_in, fan_out] = fans(t.shape());
  float* p = t.data();
  int64_t n = t.size();
  if (name == "zeros" || name == "ones") {
    std::fill_n(p, n, name == "ones" ? 1.0f : 0.0f);
    return;
  }
  double fan, scale;
  if (name.starts_with("glorot_")) {
    fan = (fan_in + fan_out) / 2.0, scale = 1.0;
  } else if (name.starts_with("he_")) {
    fan = fan_in, scale = 2.0;
  } else if (name.starts_with("lecun_")) {
    fan = fan_in, scale = 1.0;
  } else {
    throw ValueError("unknown initializer '" + name + "'; expected one of " + known_list());
  }
  double variance = scale / std::max(1.0, fan);
  if (name.ends_with("_uniform")) {
    double limit = std::sqrt(3.0 * variance);
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<float>(rng.uniform(-limit, limit));
  } else {
    // Truncated at two standard deviations; the constant restores the requested variance.
    double stddev = std::sqrt(variance) / 0.87962566103423978;
    for (int64_t i = 0; i < n; ++i) {
      double z;
      do z = rng.normal();
      while (std::abs(z) > 2.0);
      p[i] = static_cast<float>(z * stddev);
    }
  }
}

nlohmann::json to_config(const std::string& name) {
  for (const auto& k : kKnown)
    if (name == k.name) {
      nlohmann::json cfg = nlohmann::json::object();
      if (name != "zeros" && name != "ones") cfg["seed"] = nullptr;
      return {{"class_name", k.class_name}, {"config", cfg}};
    }
  throw ValueError("unknown initializer '" + name + "'; expected one of " + known_list());
}

std::string from_config(const nlohmann::json& config) {
  std::string given = config.is_string() ? config.get<std::string>()
                      : config.is_object() && config.contains("class_name") &&
                              config["class_name"].is_string()
                          ? config["class_name"].get<std::string>()
                          : std::string();
  for (const auto& k : kKnown)
    if (given == k.name || given == k.class_name) return k.name;
  throw ConfigError("unknown initializer " + config.dump() + "; expected one of " + known_list());
}

}  // namespace kiln::initializers
