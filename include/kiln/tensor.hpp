// Tensor: a shape and 64-byte-aligned storage, shared between copies (like a NumPy array).
// It carries no gradient graph. BasicTensor<T> serves float32 data, uint8 images and int labels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "kiln/error.hpp"

namespace kiln {

using Shape = std::vector<int64_t>;

// Number of elements of a shape; throws ShapeError on a negative dimension, or when the product of
// the dimensions overflows (65536 x 262144 x 2^30 would otherwise wrap to 0).
int64_t shape_size(const Shape& shape);
// The bytes of a tensor of this shape, or ShapeError when the count overflows.
int64_t shape_bytes(const Shape& shape, int64_t element_size);
// "[32, 784]": shapes as error messages print them.
std::string shape_str(const Shape& shape);

namespace detail {
std::shared_ptr<std::byte[]> aligned_bytes(size_t bytes);
}

template <typename T>
class BasicTensor {
 public:
  BasicTensor() = default;
  // A zero-filled tensor of the given shape.
  explicit BasicTensor(Shape shape) : shape_(std::move(shape)) {
    int64_t bytes = shape_bytes(shape_, sizeof(T));
    storage_ = detail::aligned_bytes(static_cast<size_t>(bytes));
    data_ = reinterpret_cast<T*>(storage_.get());
  }
  BasicTensor(Shape shape, std::initializer_list<T> values) : BasicTensor(std::move(shape)) {
    if (static_cast<int64_t>(values.size()) != size())
      throw ShapeError("Tensor of shape " + shape_str(shape_) + " needs " +
                       std::to_string(size()) + " values, received " +
                       std::to_string(values.size()));
    std::copy(values.begin(), values.end(), data_);
  }

  // A tensor over memory owned by `owner` (an arena), with no copy.
  static BasicTensor view(Shape shape, std::shared_ptr<std::byte[]> owner, T* data) {
    BasicTensor out;
    out.shape_ = std::move(shape);
    out.storage_ = std::move(owner);
    out.data_ = data;
    return out;
  }

  const std::shared_ptr<std::byte[]>& storage() const { return storage_; }
  // Points this tensor, keeping its shape, at other's memory, which must hold at least as many
  // values: a view that is re-aimed without allocating (the model's pass-through outputs).
  void alias(const BasicTensor& other) {
    storage_ = other.storage_;
    data_ = other.data_;
  }
  // The same memory seen with another first dimension (a batch of n rows of this tensor's rows).
  BasicTensor with_rows(int64_t n) const {
    BasicTensor out = *this;
    out.shape_[0] = n;
    return out;
  }
  const Shape& shape() const { return shape_; }
  int64_t dim(size_t i) const { return shape_.at(i); }
  size_t rank() const { return shape_.size(); }
  int64_t size() const { return shape_size(shape_); }
  bool empty() const { return data_ == nullptr || size() == 0; }
  T* data() { return data_; }
  const T* data() const { return data_; }
  std::span<T> values() { return {data_, static_cast<size_t>(size())}; }
  std::span<const T> values() const { return {data_, static_cast<size_t>(size())}; }
  T& operator[](int64_t i) { return data_[i]; }
  const T& operator[](int64_t i) const { return data_[i]; }

  // Elements per entry of the first axis (784 for images shaped [N, 28, 28]).
  int64_t row_size() const { return rank() == 0 ? 1 : size() / std::max<int64_t>(dim(0), 1); }

  // Rows [begin, end) of the first axis, sharing storage (like x[begin:end] in NumPy).
  BasicTensor slice(int64_t begin, int64_t end) const {
    if (rank() == 0 || begin < 0 || end < begin || end > dim(0))
      throw ShapeError("slice [" + std::to_string(begin) + ", " + std::to_string(end) +
                       ") is out of range for a tensor of shape " + shape_str(shape_));
    BasicTensor out = *this;
    out.shape_[0] = end - begin;
    out.data_ = data_ + begin * row_size();
    return out;
  }
  // The same storage seen with another shape of the same size.
  BasicTensor reshape(Shape shape) const {
    if (shape_size(shape) != size())
      throw ShapeError("cannot reshape a tensor of shape " + shape_str(shape_) + " to " +
                       shape_str(shape));
    BasicTensor out = *this;
    out.shape_ = std::move(shape);
    return out;
  }
  // A copy with its own storage.
  BasicTensor clone() const {
    BasicTensor out(shape_);
    std::copy(data_, data_ + size(), out.data_);
    return out;
  }
  // Element-wise conversion to another type, times `scale` (astype<float>(1 / 255.f)).
  template <typename U>
  BasicTensor<U> astype(double scale = 1.0) const {
    BasicTensor<U> out(shape_);
    U* o = out.data();
    for (int64_t i = 0, n = size(); i < n; ++i)
      o[i] = static_cast<U>(static_cast<double>(data_[i]) * scale);
    return out;
  }

 private:
  Shape shape_;
  std::shared_ptr<std::byte[]> storage_;
  T* data_ = nullptr;
};

using Tensor = BasicTensor<float>;
using ByteTensor = BasicTensor<uint8_t>;
using LabelTensor = BasicTensor<int32_t>;

// Element-wise scaling, for the tutorial's `x / 255.0`.
Tensor operator/(const Tensor& t, float divisor);
Tensor operator*(const Tensor& t, float factor);

}  // namespace kiln
