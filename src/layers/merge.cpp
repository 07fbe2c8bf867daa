#include "kiln/layers/merge.hpp"

#include <algorithm>

#include "kernels/cpu/merge.hpp"

namespace kiln::layers {

namespace impl {

namespace {

std::string shapes_text(std::span<const Shape> shapes) {
  std::string s;
  for (const auto& shape : shapes) s += (s.empty() ? "" : ", ") + shape_str(shape);
  return s;
}

}  // namespace

std::string Merge::class_name() const {
  switch (op_) {
    case Op::kAdd: return "Add";
    case Op::kSubtract: return "Subtract";
    case Op::kMultiply: return "Multiply";
    case Op::kAverage: return "Average";
    case Op::kMaximum: return "Maximum";
    case Op::kMinimum: return "Minimum";
  }
  return "Add";
}

Shape Merge::build(std::span<const Shape> input_shapes) {
  if (op_ == Op::kSubtract && input_shapes.size() != 2)
    throw ShapeError("A Subtract layer ('" + name() + "') should be called on exactly 2 inputs, received " +
                     std::to_string(input_shapes.size()));
  for (const auto& s : input_shapes)
    if (s != input_shapes[0])
      throw ShapeError(class_name() + " '" + name() + "' needs inputs of one shape, received shapes " +
                       shapes_text(input_shapes) + " (kiln does not broadcast merges)");
  in_.resize(input_shapes.size());
  din_.resize(input_shapes.size());
  accumulate_.resize(input_shapes.size());
  return input_shapes[0];
}

void Merge::forward(const Context&, std::span<const Tensor* const> inputs, Tensor& out) {
  for (size_t j = 0; j < inputs.size(); ++j) in_[j] = inputs[j]->data();
  cpu::merge_forward(static_cast<cpu::MergeOp>(op_), out.data(), in_.data(), static_cast<int64_t>(in_.size()),
                     out.size());
}

void Merge::backward(const Context&, std::span<const Tensor* const> inputs, const Tensor&, Tensor& grad_out,
                     std::span<const InputGrad> grad_inputs) {
  for (size_t j = 0; j < inputs.size(); ++j) {
    in_[j] = inputs[j]->data();
    din_[j] = grad_inputs[j].tensor ? grad_inputs[j].tensor->data() : nullptr;
    accumulate_[j] = grad_inputs[j].accumulate;
  }
  cpu::merge_backward(static_cast<cpu::MergeOp>(op_), din_.data(), accumulate_.data(), grad_out.data(), in_.data(),
                      static_cast<int64_t>(in_.size()), grad_out.size());
}

Shape Concatenate::build(std::span<const Shape> input_shapes) {
  const Shape& first = input_shapes[0];
  const int rank = static_cast<int>(first.size());
  // Keras counts the batch axis: axis 1 is the first per-sample axis, -1 the last.
  int axis = axis_ < 0 ? rank + axis_ : axis_ - 1;
  if (axis_ == 0 || axis < 0 || axis >= rank)
    throw ShapeError("Concatenate '" + name() + "': axis " + std::to_string(axis_) +
                     " is out of range for inputs of rank " + std::to_string(rank + 1) +
                     " (batch axis included; the batch axis 0 cannot be joined)");
  Shape out = first;
  out[axis] = 0;
  inner_.clear();
  for (const auto& s : input_shapes) {
    bool fits = static_cast<int>(s.size()) == rank;
    for (int d = 0; fits && d < rank; ++d) fits = d == axis || s[d] == first[d];
    if (!fits)
      throw ShapeError("A Concatenate layer ('" + name() + "') requires inputs with matching shapes except for the "
                       "concatenation axis, received shapes " + shapes_text(input_shapes) + " with axis " +
                       std::to_string(axis_));
    out[axis] += s[axis];
    inner_.push_back(shape_size(Shape(s.begin() + axis, s.end())));
  }
  outer_ = shape_size(Shape(first.begin(), first.begin() + axis));
  return out;
}

void Concatenate::forward(const Context&, std::span<const Tensor* const> inputs, Tensor& out) {
  const int64_t rows = out.dim(0) * outer_;
  float* dst = out.data();
  for (int64_t r = 0; r < rows; ++r)
    for (size_t i = 0; i < inputs.size(); ++i) {
      dst = std::copy_n(inputs[i]->data() + r * inner_[i], inner_[i], dst);
    }
}

void Concatenate::backward(const Context&, std::span<const Tensor* const>, const Tensor&, Tensor& grad_out,
                           std::span<const InputGrad> grad_inputs) {
  const int64_t rows = grad_out.dim(0) * outer_;
  const float* src = grad_out.data();
  for (int64_t r = 0; r < rows; ++r)
    for (size_t i = 0; i < grad_inputs.size(); ++i) {
      if (grad_inputs[i].tensor) {
        float* dst = grad_inputs[i].tensor->data() + r * inner_[i];
        if (grad_inputs[i].accumulate)
          for (int64_t k = 0; k < inner_[i]; ++k) dst[k] += src[k];
        else
          std::copy_n(src, inner_[i], dst);
      }
      src += inner_[i];
    }
}

}  // namespace impl

Add::Add() : LayerHandle(std::make_shared<impl::Merge>(impl::Merge::Op::kAdd)) {}
Subtract::Subtract() : LayerHandle(std::make_shared<impl::Merge>(impl::Merge::Op::kSubtract)) {}
Multiply::Multiply() : LayerHandle(std::make_shared<impl::Merge>(impl::Merge::Op::kMultiply)) {}
Average::Average() : LayerHandle(std::make_shared<impl::Merge>(impl::Merge::Op::kAverage)) {}
Maximum::Maximum() : LayerHandle(std::make_shared<impl::Merge>(impl::Merge::Op::kMaximum)) {}
Minimum::Minimum() : LayerHandle(std::make_shared<impl::Merge>(impl::Merge::Op::kMinimum)) {}
Concatenate::Concatenate(int axis) : LayerHandle(std::make_shared<impl::Concatenate>(axis)) {}

}  // namespace kiln::layers
