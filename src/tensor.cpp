#include "kiln/tensor.hpp"

#include <cstdlib>
#include <new>

namespace kiln {

int64_t shape_size(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    if (d < 0) throw ShapeError("negative dimension in shape " + shape_str(shape));
  for (int64_t d : shape)
    if (__builtin_mul_overflow(n, d, &n))
      throw ShapeError("shape " + shape_str(shape) + " has more elements than a 64-bit count holds");
  return n;
}

int64_t shape_bytes(const Shape& shape, int64_t element_size) {
  int64_t count = shape_size(shape), bytes = 0;
  if (__builtin_mul_overflow(count, element_size, &bytes))
    throw ShapeError("a tensor of shape " + shape_str(shape) + " has " + std::to_string(count) + " elements of " +
                     std::to_string(element_size) + " bytes, more than a 64-bit size holds");
  return bytes;
}

std::string shape_str(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

namespace detail {
std::shared_ptr<std::byte[]> aligned_bytes(size_t bytes) {
  if (bytes > SIZE_MAX - 63) throw std::bad_alloc();
  size_t rounded = (bytes + 63) / 64 * 64;
  if (rounded == 0) rounded = 64;
  void* p = std::aligned_alloc(64, rounded);
  if (!p) throw std::bad_alloc();
  std::fill_n(static_cast<std::byte*>(p), rounded, std::byte{0});
  return std::shared_ptr<std::byte[]>(static_cast<std::byte*>(p), [](std::byte* q) { std::free(q); });
}
}  // namespace detail

Tensor operator*(const Tensor& t, float factor) {
  Tensor out(t.shape());
  const float* in = t.data();
  float* o = out.data();
  for (int64_t i = 0, n = t.size(); i < n; ++i) o[i] = in[i] * factor;
  return out;
}

Tensor operator/(const Tensor& t, float divisor) {
  if (divisor == 0.0f) throw ValueError("division of a tensor by zero");
  Tensor out(t.shape());
  const float* in = t.data();
  float* o = out.data();
  for (int64_t i = 0, n = t.size(); i < n; ++i) o[i] = in[i] / divisor;
  return out;
}

}  // namespace kiln
