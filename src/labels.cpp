// Labels: a dataset's integer class labels or float targets, and views of them from a sample on.
#include "kiln/trainer.hpp"

namespace kiln {

namespace {

template <typename T>
std::vector<int32_t> to_int(const BasicTensor<T>& y) {
  if (y.rank() != 1)
    throw ShapeError("labels must be one integer per sample (shape [N]), received shape " +
                     shape_str(y.shape()));
  return std::vector<int32_t>(y.data(), y.data() + y.size());
}

}  // namespace

Labels::Labels(const ByteTensor& y) : values_(to_int(y)) {}
Labels::Labels(const LabelTensor& y) : values_(to_int(y)) {}

Labels::Labels(Tensor y) : floats_(std::move(y)) {
  if (floats_.rank() == 0)
    throw ShapeError(
        "float targets need a first axis of samples (shape [N, ...]), received a scalar");
}

Labels Labels::slice(int64_t begin, int64_t end) const {
  if (!sparse()) return Labels(floats_.slice(begin, end));
  return Labels(std::vector<int32_t>(values_.begin() + begin, values_.begin() + end));
}

Targets Labels::at(int64_t begin, std::span<const float> weights) const {
  Targets t = sparse() ? Targets(values_.data() + begin)
                       : Targets(floats_.data() + begin * floats_.row_size());
  if (!weights.empty()) t.weights = weights.data() + begin;
  return t;
}

}  // namespace kiln
