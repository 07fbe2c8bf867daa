// The accuracy metrics: sparse, categorical, binary and top-k, each the weighted count of
// matches in a batch.
#include "kiln/metrics.hpp"

namespace kiln::metrics {

namespace {

double weight(const Targets& y, int64_t r) { return y.weights ? y.weights[r] : 1.0; }

// The target class of row r: its label, or the first largest value of its target row.
int64_t target_class(const Targets& y, int64_t r, int64_t C) {
  return y.labels ? y.labels[r] : argmax(y.values + r * C, C);
}

// Whether class t is among the k highest of the n scores (fewer than k score strictly higher).
bool in_top_k(const float* scores, int64_t n, int64_t t, int64_t k) {
  if (t < 0 || t >= n) return false;
  int64_t higher = 0;
  for (int64_t j = 0; j < n; ++j) higher += scores[j] > scores[t];
  return higher < k;
}

void check_k(int64_t k, const std::string& name) {
  if (k < 1)
    throw ValueError(name + ": k must be a positive integer, received k=" + std::to_string(k));
}

}  // namespace

int64_t argmax(const float* scores, int64_t n) {
  int64_t best = 0;
  for (int64_t j = 1; j < n; ++j)
    if (scores[j] > scores[best]) best = j;
  return best;
}

double SparseCategoricalAccuracy::batch_total(const Tensor& out, const Targets& y) const {
  const int64_t B = out.dim(0), C = out.row_size();
  double total = 0;
  for (int64_t r = 0; r < B; ++r)
    if (argmax(out.data() + r * C, C) == y.labels[r]) total += weight(y, r);
  return total;
}

double CategoricalAccuracy::batch_total(const Tensor& out, const Targets& y) const {
  const int64_t B = out.dim(0), C = out.row_size();
  double total = 0;
  for (int64_t r = 0; r < B; ++r)
    if (argmax(out.data() + r * C, C) == target_class(y, r, C)) total += weight(y, r);
  return total;
}

double BinaryAccuracy::batch_total(const Tensor& out, const Targets& y) const {
  const int64_t B = out.dim(0), C = out.row_size();
  double total = 0;
  for (int64_t r = 0; r < B; ++r) {
    int64_t matches = 0;
    for (int64_t j = 0; j < C; ++j) {
      const float t = y.values ? y.values[r * C + j] : static_cast<float>(y.labels[r]);
      matches += (out.data()[r * C + j] > static_cast<float>(threshold_) ? 1.0f : 0.0f) == t;
    }
    total += weight(y, r) * static_cast<double>(matches) / static_cast<double>(C);
  }
  return total;
}

TopKCategoricalAccuracy::TopKCategoricalAccuracy(int64_t k, std::string name)
    : Metric(std::move(name)), k_(k) {
  check_k(k_, this->name());
}

double TopKCategoricalAccuracy::batch_total(const Tensor& out, const Targets& y) const {
  const int64_t B = out.dim(0), C = out.row_size();
  double total = 0;
  for (int64_t r = 0; r < B; ++r)
    if (in_top_k(out.data() + r * C, C, target_class(y, r, C), k_)) total += weight(y, r);
  return total;
}

SparseTopKCategoricalAccuracy::SparseTopKCategoricalAccuracy(int64_t k, std::string name)
    : Metric(std::move(name)), k_(k) {
  check_k(k_, this->name());
}

double SparseTopKCategoricalAccuracy::batch_total(const Tensor& out, const Targets& y) const {
  const int64_t B = out.dim(0), C = out.row_size();
  double total = 0;
  for (int64_t r = 0; r < B; ++r)
    if (in_top_k(out.data() + r * C, C, y.labels[r], k_)) total += weight(y, r);
  return total;
}

}  // namespace kiln::metrics
