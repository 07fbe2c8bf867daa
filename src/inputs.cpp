#include <algorithm>
#include <cstring>

#include "kiln/trainer.hpp"

namespace kiln {

int64_t Inputs::row_size() const {
  int64_t n = 1;
  for (size_t i = 1; i < shape_.size(); ++i) n *= shape_[i];
  return n;
}

Inputs Inputs::slice(int64_t begin, int64_t end) const {
  return is_float() ? Inputs(floats_.slice(begin, end)) : Inputs(bytes_.slice(begin, end));
}

void Inputs::gather(const int64_t* rows, int64_t n, float* dst, double scale) const {
  const int64_t row = row_size();
  for (int64_t i = 0; i < n; ++i) {
    float* d = dst + i * row;
    if (is_float()) {
      std::memcpy(d, floats_.data() + rows[i] * row, sizeof(float) * row);
    } else {
      const uint8_t* src = bytes_.data() + rows[i] * row;
      for (int64_t j = 0; j < row; ++j) d[j] = static_cast<float>(src[j] * scale);
    }
  }
}

void Inputs::copy_rows(int64_t begin, int64_t n, float* dst, double scale) const {
  const int64_t row = row_size();
  if (is_float()) {
    std::memcpy(dst, floats_.data() + begin * row, sizeof(float) * n * row);
    return;
  }
  const uint8_t* src = bytes_.data() + begin * row;
  for (int64_t j = 0; j < n * row; ++j) dst[j] = static_cast<float>(src[j] * scale);
}

}  // namespace kiln
