#include "kiln/metrics.hpp"

namespace kiln::metrics {

int64_t argmax(const float* scores, int64_t n) {
  int64_t best = 0;
  for (int64_t j = 1; j < n; ++j)
    if (scores[j] > scores[best]) best = j;
  return best;
}

void SparseCategoricalAccuracy::update(const Tensor& out, const int32_t* labels) {
  int64_t B = out.dim(0), C = out.row_size();
  for (int64_t r = 0; r < B; ++r) correct_ += argmax(out.data() + r * C, C) == labels[r];
  total_ += B;
}

double SparseCategoricalAccuracy::result() const {
  // Keras keeps metric state in float32; reporting the float32 value keeps logs identical.
  return total_ ? static_cast<double>(static_cast<float>(static_cast<double>(correct_) / total_))
                : 0.0;
}

std::unique_ptr<Metric> get(const std::string& name) {
  if (name == "accuracy" || name == "acc" || name == "sparse_categorical_accuracy")
    return std::make_unique<SparseCategoricalAccuracy>(name == "acc" ? "accuracy" : name);
  throw ValueError("unknown metric '" + name +
                   "'; expected \"accuracy\" or \"sparse_categorical_accuracy\"");
}

}  // namespace kiln::metrics
