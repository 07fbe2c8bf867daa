#include <cstring>

#include "kiln/trainer.hpp"

namespace kiln {

int64_t Inputs::row_size() const {
  int64_t n = 1;
  for (size_t i = 1; i < shape_.size(); ++i) n *= shape_[i];
  return n;
}

Inputs Inputs::slice(int64_t begin, int64_t end) const {
  return is_float_ ? Inputs(floats_.slice(begin, end)) : Inputs(bytes_.slice(begin, end));
}

template <typename RowOf>
void Inputs::to_floats(int64_t n, RowOf&& row_of, float* dst, double scale) const {
  const int64_t size = row_size();
  if (is_float_) {
    for (int64_t i = 0; i < n; ++i)
      std::memcpy(dst + i * size, floats_.data() + row_of(i) * size, sizeof(float) * size);
    return;
  }
  float table[256];
  for (int v = 0; v < 256; ++v) table[v] = static_cast<float>(v * scale);
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* src = bytes_.data() + row_of(i) * size;
    float* out = dst + i * size;
    for (int64_t j = 0; j < size; ++j) out[j] = table[src[j]];
  }
}

void Inputs::gather(const int64_t* rows, int64_t n, float* dst, double scale) const {
  to_floats(n, [rows](int64_t i) { return rows[i]; }, dst, scale);
}

void Inputs::copy_rows(int64_t begin, int64_t n, float* dst, double scale) const {
  to_floats(n, [begin](int64_t i) { return begin + i; }, dst, scale);
}

void Inputs::prefetch(const int64_t* rows, int64_t n) const {
  const int64_t bytes = row_size() * (is_float_ ? static_cast<int64_t>(sizeof(float)) : 1);
  const char* base = is_float_ ? reinterpret_cast<const char*>(floats_.data())
                               : reinterpret_cast<const char*>(bytes_.data());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t off = 0; off < bytes; off += 64) __builtin_prefetch(base + rows[i] * bytes + off);
}

}  // namespace kiln
