#include "onnx/layer_params.hpp"

#include <algorithm>
#include <cmath>

#include "kiln/error.hpp"

namespace kiln::onnx {

namespace {

std::array<int64_t, 2> pair_of(const nlohmann::json& v, const char* what, const std::string& layer) {
  if (v.is_number_integer()) return {v.get<int64_t>(), v.get<int64_t>()};
  if (v.is_array() && v.size() == 2) return {v[0].get<int64_t>(), v[1].get<int64_t>()};
  throw ValueError("ONNX export: " + layer + ": cannot read " + what + " " + v.dump());
}

}  // namespace

Geometry window(const nlohmann::json& cfg, const char* size_key, const Shape& input, const std::string& layer) {
  const auto k = pair_of(cfg.at(size_key), size_key, layer);
  auto s = cfg.contains("strides") && !cfg["strides"].is_null() ? pair_of(cfg["strides"], "strides", layer) : k;
  if (s[0] == 0) s = k;  // pooling's strides=None
  const auto d = cfg.contains("dilation_rate") ? pair_of(cfg["dilation_rate"], "dilation_rate", layer)
                                               : std::array<int64_t, 2>{1, 1};
  Geometry g{{k[0], k[1]}, {s[0], s[1]}, {d[0], d[1]}, {0, 0, 0, 0}};
  if (cfg.at("padding").get<std::string>() == "same")
    for (int a = 0; a < 2; ++a) {
      const int64_t n = input[a], span = d[a] * (k[a] - 1) + 1, out = (n + s[a] - 1) / s[a];
      const int64_t total = std::max<int64_t>((out - 1) * s[a] + span - n, 0);
      g.pads[a] = total / 2;
      g.pads[a + 2] = total - total / 2;
    }
  return g;
}

const Tensor* maybe_weight(const Layer& layer, const std::string& name) {
  for (const auto& p : layer.params())
    if (p.name == name) return &p.value;
  return nullptr;
}

const Tensor& weight_of(const Layer& layer, const std::string& name) {
  if (const Tensor* t = maybe_weight(layer, name)) return *t;
  throw ValueError("ONNX export: layer '" + layer.name() + "' has no weight '" + name + "'");
}

Affine batch_norm_affine(const Layer& bn) {
  const Tensor& mean = weight_of(bn, "moving_mean");
  const Tensor& var = weight_of(bn, "moving_variance");
  const Tensor* gamma = maybe_weight(bn, "gamma");
  const Tensor* beta = maybe_weight(bn, "beta");
  const auto eps = static_cast<float>(bn.config().at("epsilon").get<double>());
  Affine f;
  for (int64_t c = 0; c < mean.size(); ++c) {
    const float a = (gamma ? gamma->data()[c] : 1.0f) / std::sqrt(var.data()[c] + eps);
    f.a.push_back(a);
    f.b.push_back((beta ? beta->data()[c] : 0.0f) - mean.data()[c] * a);
  }
  return f;
}

}  // namespace kiln::onnx
