// What the layers that run matrix products share: the precision of their products, their
// activation, and where backward puts a weight's gradient (the gradient arena, or the weight
// itself when the optimizer's fused step is taken).
#pragma once

#include <algorithm>

#include "kernels/cpu/activations.hpp"
#include "kernels/cpu/gemm.hpp"
#include "kiln/layers/layer.hpp"

namespace kiln::layers::impl {

inline cpu::Precision precision_of(const Layer& layer) {
  return layer.mixed_bfloat16() ? cpu::Precision::kBfloat16 : cpu::Precision::kFloat32;
}

// The cpu::Activation a layer keeps as an int (its public header does not see the kernels).
inline cpu::Activation activation_of(int a) { return static_cast<cpu::Activation>(a); }

// Where a weight's gradient goes: its gradient, or its value for a fused step; null when the
// call wants no weight gradients or there is no such weight.
inline float* grad_target(const Context& ctx, Param* p) {
  if (!ctx.weight_grads || !p) return nullptr;
  return (ctx.fused_step ? p->value : p->grad).data();
}
// The factor the gradient is multiplied by on its way there (-learning_rate for a fused step),
// and whether it adds to what is there.
inline float grad_alpha(const Context& ctx) { return ctx.fused_step ? ctx.fused_step->alpha : 1.0f; }
inline bool grad_accumulates(const Context& ctx) { return ctx.fused_step || ctx.accumulate; }

// A product layer's part of a folded channel map: scale 1, shift its bias (0 without one).
inline void start_map_with(ChannelMap& map, const Param* bias) {
  std::fill(map.scale.begin(), map.scale.end(), 1.0f);
  if (bias)
    std::copy_n(bias->value.data(), map.shift.size(), map.shift.begin());
  else
    std::fill(map.shift.begin(), map.shift.end(), 0.0f);
  map.relu = false;
}
// The product's epilogue that applies a folded channel map.
inline cpu::Epilogue epilogue_of(const ChannelMap& map) { return {map.shift.data(), map.relu, map.scale.data()}; }

}  // namespace kiln::layers::impl
