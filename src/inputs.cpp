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

void Inputs::row_to_floats(int64_t row, float* dst, double scale) const {
  const int64_t size = row_size();
  if (is_float_) {
    std::memcpy(dst, floats_.data() + row * size, sizeof(float) * size);
    return;
  }
  const uint8_t* src = bytes_.data() + row * size;
  for (int64_t j = 0; j < size; ++j) dst[j] = static_cast<float>(src[j] * scale);
}

void Inputs::gather(const int64_t* rows, int64_t n, float* dst, double scale) const {
  for (int64_t i = 0; i < n; ++i) row_to_floats(rows[i], dst + i * row_size(), scale);
}

void Inputs::copy_rows(int64_t begin, int64_t n, float* dst, double scale) const {
  for (int64_t i = 0; i < n; ++i) row_to_floats(begin + i, dst + i * row_size(), scale);
}

}  // namespace kiln
