// Element-wise activations over a batch of rows, forward and backward.
#pragma once

#include <cmath>
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

// Keras's ReLU layer: max_value for x >= max_value, x from threshold up, negative_slope * (x - threshold)
// below it.
struct ReluShape {
  float threshold = 0, negative_slope = 0, max_value = INFINITY;
};

// y (n) = relu(x), split across the pool; y may be x.
void relu_forward(float* y, const float* x, int64_t n, const ReluShape& shape);

// g (n) *= the slope of the ReLU at x (the slope above the threshold, as TensorFlow's ReluGrad).
void relu_backward(float* g, const float* x, int64_t n, const ReluShape& shape);

// db (N) = (accumulate ? db : 0) + alpha * sum over rows of dz (B,N).
void bias_backward(float* db, const float* dz, int64_t B, int64_t N, float alpha, bool accumulate);

}  // namespace kiln::cpu
