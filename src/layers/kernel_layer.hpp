// What the layers that run matrix products share: the precision of their products, their
// activation, and where backward puts a weight's gradient (the gradient arena, or the weight
// itself when the optimizer's fused step is taken).
#pragma once

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

}  // namespace kiln::layers::impl
