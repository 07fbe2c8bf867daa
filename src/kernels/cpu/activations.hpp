// Element-wise activations over a batch of rows, forward and backward.
#pragma once

#include <cstdint>
#include <string>

namespace kiln::cpu {

enum class Activation { kLinear, kRelu, kSigmoid, kTanh, kSoftmax };

// Parses a Keras activation name ("relu", "softmax", ...); throws ValueError on unknown names.
Activation parse_activation(const std::string& name);
const char* activation_name(Activation a);

// y (B,N) = act(y + bias) in place; bias (N) may be null. Softmax is taken over each row.
void bias_activation_forward(float* y, const float* bias, Activation act, int64_t B, int64_t N);

// dy (B,N) becomes the gradient with respect to the pre-activation, given the output y (B,N).
void activation_backward(float* dy, const float* y, Activation act, int64_t B, int64_t N);

// db (N) = (accumulate ? db : 0) + alpha * sum over rows of dz (B,N).
void bias_backward(float* db, const float* dz, int64_t B, int64_t N, float alpha, bool accumulate);

}  // namespace kiln::cpu
