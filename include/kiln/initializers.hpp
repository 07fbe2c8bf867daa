// Weight initializers, by their Keras names.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "kiln/random.hpp"
#include "kiln/tensor.hpp"

namespace kiln::initializers {

// Fills t as the Keras initializer `name` would ("glorot_uniform", "he_normal", "zeros", ...).
// Fans come from t's shape: [in, out] for a Dense kernel, [kh, kw, in, out] for a Conv2D kernel.
void fill(const std::string& name, Tensor& t, Rng& rng);

// "glorot_uniform" <-> {"class_name": "GlorotUniform", "config": {"seed": null}}.
nlohmann::json to_config(const std::string& name);
std::string from_config(const nlohmann::json& config);

}  // namespace kiln::initializers
