// Merge layers, as Keras names them: element-wise Add, Subtract, Multiply, Average, Maximum and
// Minimum of inputs of one shape (Keras also broadcasts unequal shapes; kiln asks for equal
// ones and says so), and Concatenate along an axis. Call them on a list: Add()({a, b}).
#pragma once

#include "kiln/layers/layer.hpp"

namespace kiln::layers {

namespace impl {

// The element-wise merges, one class with its operation: Keras's Add, Subtract (exactly two
// inputs: a - b), Multiply, Average, Maximum, Minimum.
class Merge : public Layer {
 public:
  enum class Op { kAdd, kSubtract, kMultiply, kAverage, kMaximum, kMinimum };
  explicit Merge(Op op) : op_(op) {}
  std::string class_name() const override;
  Shape build(std::span<const Shape> input_shapes) override;
  void forward(const Context& ctx, std::span<const Tensor* const> inputs, Tensor& out) override;
  void backward(const Context& ctx, std::span<const Tensor* const> inputs, const Tensor& out, Tensor& grad_out,
                std::span<const InputGrad> grad_inputs) override;
  nlohmann::json config() const override { return nlohmann::json::object(); }
  bool backward_reads_inputs() const override { return op_ >= Op::kMultiply && op_ != Op::kAverage; }
  bool backward_reads_output() const override { return false; }
  Op op() const { return op_; }

 private:
  Op op_;
  // The kernels' argument arrays, sized when built: a call allocates nothing.
  std::vector<const float*> in_;
  std::vector<float*> din_;
  std::vector<uint8_t> accumulate_;
};

// Joins its inputs along `axis` (Keras's: -1 the last; 0, the batch axis, is not allowed).
class Concatenate : public Layer {
 public:
  explicit Concatenate(int axis) : axis_(axis) {}
  std::string class_name() const override { return "Concatenate"; }
  Shape build(std::span<const Shape> input_shapes) override;
  void forward(const Context& ctx, std::span<const Tensor* const> inputs, Tensor& out) override;
  void backward(const Context& ctx, std::span<const Tensor* const> inputs, const Tensor& out, Tensor& grad_out,
                std::span<const InputGrad> grad_inputs) override;
  nlohmann::json config() const override { return {{"axis", axis_}}; }
  bool backward_reads_inputs() const override { return false; }
  bool backward_reads_output() const override { return false; }
  int axis() const { return axis_; }

 private:
  // Per sample: `outer` blocks, each input contributing inner_[i] values to every block.
  int axis_;
  int64_t outer_ = 1;
  std::vector<int64_t> inner_;
};

}  // namespace impl

class Add : public LayerHandle<impl::Merge> {
 public:
  Add();
};
class Subtract : public LayerHandle<impl::Merge> {
 public:
  Subtract();
};
class Multiply : public LayerHandle<impl::Merge> {
 public:
  Multiply();
};
class Average : public LayerHandle<impl::Merge> {
 public:
  Average();
};
class Maximum : public LayerHandle<impl::Merge> {
 public:
  Maximum();
};
class Minimum : public LayerHandle<impl::Merge> {
 public:
  Minimum();
};
class Concatenate : public LayerHandle<impl::Concatenate> {
 public:
  explicit Concatenate(int axis = -1);
};

}  // namespace kiln::layers
