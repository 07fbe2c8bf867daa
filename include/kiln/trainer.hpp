// The training loop, apart from the model as in Keras: fit, evaluate and predict with their
// options. Sequential::fit and friends call these.
#pragma once

#include <iostream>
#include <optional>
#include <vector>

#include "kiln/callbacks.hpp"
#include "kiln/tensor.hpp"

namespace kiln {

class Sequential;

// Integer class labels, from uint8 (as datasets load them) or int32 tensors.
class Labels {
 public:
  Labels() = default;
  Labels(const ByteTensor& y);
  Labels(const LabelTensor& y);
  Labels(std::vector<int32_t> y) : values_(std::move(y)) {}
  int64_t size() const { return static_cast<int64_t>(values_.size()); }
  const int32_t* data() const { return values_.data(); }
  int32_t operator[](int64_t i) const { return values_[i]; }

 private:
  std::vector<int32_t> values_;
};

struct ValidationData {
  Tensor x;
  Labels y;
};

struct FitOptions {
  int epochs = 1;
  int64_t batch_size = 32;
  std::optional<ValidationData> validation_data;
  double validation_split = 0.0;  // last fraction of x held out, when no validation_data
  bool shuffle = true;
  int verbose = 1;                     // 0 silent, 1 progress bar, 2 one line per epoch
  std::optional<uint64_t> seed;        // shuffling; unset: drawn from utils::global_rng()
  std::vector<Callback*> callbacks;    // not owned
  std::ostream* out = &std::cout;      // where progress goes
};

struct EvaluateOptions {
  int64_t batch_size = 32;
  int verbose = 1;
  std::ostream* out = &std::cout;
};

struct PredictOptions {
  int64_t batch_size = 32;
};

class Trainer {
 public:
  explicit Trainer(Sequential& model) : model_(model) {}
  History fit(const Tensor& x, const Labels& y, const FitOptions& options);
  // Loss and metrics over all of x, y.
  Logs evaluate(const Tensor& x, const Labels& y, const EvaluateOptions& options);
  // Model outputs (N, classes) for all of x.
  Tensor predict(const Tensor& x, const PredictOptions& options);

 private:
  Logs run_test(const Tensor& x, const Labels& y, int64_t batch_size, Progbar* bar);
  Sequential& model_;
};

}  // namespace kiln
