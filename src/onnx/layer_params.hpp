// What ONNX export reads off a layer: its weights by name, a window's geometry in kiln's
// padding rules, and batch normalization as the affine map it is at inference.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "kiln/layers/layer.hpp"

namespace kiln::onnx {

struct Geometry {
  std::vector<int64_t> kernel, strides, dilations, pads;  // pads: top, left, bottom, right
};

// kiln's window geometry (kernels/cpu/window.cpp) from a Conv2D's or pooling layer's config:
// "same" pads ceil(n / s) outputs' worth, the odd pixel at the bottom and right.
Geometry window(const nlohmann::json& cfg, const char* size_key, const Shape& input, const std::string& layer);

// The layer's weight `name`; ValueError naming both when it has none.
const Tensor& weight_of(const Layer& layer, const std::string& name);
// The same, or null.
const Tensor* maybe_weight(const Layer& layer, const std::string& name);

// A batch normalization at inference, out = in * a + b per channel.
struct Affine {
  std::vector<float> a, b;
};
Affine batch_norm_affine(const Layer& bn);

}  // namespace kiln::onnx
