// The training loop, apart from the model as in Keras: fit, evaluate and predict with their
// options, for any model. Model::fit and friends call these.
#pragma once

#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "kiln/callbacks.hpp"
#include "kiln/losses.hpp"
#include "kiln/tensor.hpp"

namespace kiln {

class Model;
namespace data {
class Dataset;
}
namespace detail {
class Feed;
class Replicas;
}
namespace distribute {
class MultiWorkerMirroredStrategy;
}

// The targets of a dataset, one per sample: integer class labels, from uint8 (as datasets load
// them) or int32 tensors or a vector; or float targets (N, ...) shaped as the model's output
// (one-hot rows, 0/1 for a sigmoid output, regression values), which fit and evaluate check
// against the loss and the output's shape.
class Labels {
 public:
  Labels() = default;
  Labels(const ByteTensor& y);
  Labels(const LabelTensor& y);
  Labels(std::vector<int32_t> y) : values_(std::move(y)) {}
  Labels(Tensor y);
  int64_t size() const { return sparse() ? static_cast<int64_t>(values_.size()) : floats_.dim(0); }
  // Whether these are integer class labels (else float targets).
  bool sparse() const { return floats_.rank() == 0; }
  const int32_t* data() const { return values_.data(); }
  int32_t operator[](int64_t i) const { return values_[i]; }
  const Tensor& floats() const { return floats_; }
  // Samples [begin, end) (float targets shared, labels copied).
  Labels slice(int64_t begin, int64_t end) const;
  // The targets from sample `begin` on as a loss reads them, with weights[begin...] when
  // weights (one per sample) are given.
  Targets at(int64_t begin, std::span<const float> weights = {}) const;

 private:
  std::vector<int32_t> values_;
  Tensor floats_;
};

// Model inputs: a float tensor, used as it is, or raw uint8 images, which become floats batch by
// batch (pixel * model.preprocessing.rescale), so no float copy of a whole dataset is made.
class Inputs {
 public:
  Inputs(Tensor x) : floats_(std::move(x)), shape_(floats_.shape()), is_float_(true) {}
  Inputs(ByteTensor x) : bytes_(std::move(x)), shape_(bytes_.shape()), is_float_(false) {}
  const Shape& shape() const { return shape_; }
  int64_t rank() const { return static_cast<int64_t>(shape_.size()); }
  int64_t rows() const { return shape_.empty() ? 0 : shape_[0]; }
  int64_t row_size() const;
  bool is_float() const { return is_float_; }
  const Tensor& floats() const { return floats_; }
  const ByteTensor& bytes() const { return bytes_; }
  Inputs slice(int64_t begin, int64_t end) const;
  // Writes row rows[i] to dst + i * row_size() as floats for i in [0, n); bytes become
  // float(byte * scale), computed in double as ByteTensor::astype<float>(scale) does.
  void gather(const int64_t* rows, int64_t n, float* dst, double scale) const;
  // The same for the contiguous rows [begin, begin + n).
  void copy_rows(int64_t begin, int64_t n, float* dst, double scale) const;
  // Asks the CPU to start loading rows rows[i], i in [0, n), into its caches: the trainer calls
  // it for the next batch, whose randomly placed rows would otherwise arrive one miss at a time.
  void prefetch(const int64_t* rows, int64_t n) const;

 private:
  // The rows' conversion (a copy for floats, cpu::scale_bytes for bytes), split across the pool.
  template <typename RowOf>
  void to_floats(int64_t n, RowOf&& row_of, float* dst, double scale) const;

  Tensor floats_;
  ByteTensor bytes_;
  Shape shape_;
  bool is_float_;
};

struct ValidationData {
  ValidationData(Inputs x, Labels y, std::vector<float> sample_weight = {})
      : x{std::move(x)}, y(std::move(y)), sample_weight(std::move(sample_weight)) {}
  ValidationData(std::vector<Inputs> x, Labels y, std::vector<float> sample_weight = {})
      : x(std::move(x)), y(std::move(y)), sample_weight(std::move(sample_weight)) {}
  // A batched pipeline, iterated once after each epoch.
  ValidationData(const data::Dataset& dataset);
  std::vector<Inputs> x;  // one per model input
  Labels y;
  std::vector<float> sample_weight;  // one per sample, or empty
  std::shared_ptr<const data::Dataset> dataset;  // set instead of x and y
};

struct FitOptions {
  int epochs = 1;
  int64_t batch_size = 32;
  std::optional<ValidationData> validation_data;
  double validation_split = 0.0;  // last fraction of x held out, when no validation_data
  bool shuffle = true;
  // Weights of the loss (and of the weighted_metrics), as in Keras: class_weight maps a class
  // index to the weight of its samples (1 for classes it lacks); sample_weight holds one weight
  // per sample of x (the last validation_split of it weighs the validation samples). At most one
  // of the two.
  std::map<int, double> class_weight;
  std::vector<float> sample_weight;
  int verbose = 1;                     // 0 silent, 1 progress bar, 2 one line per epoch
  std::optional<uint64_t> seed;        // shuffling; unset: drawn from utils::global_rng()
  std::vector<Callback*> callbacks;    // not owned
  std::ostream* out = &std::cout;      // where progress goes
  // Data-parallel training across processes (kiln/distribute.hpp); unset: this process alone.
  std::shared_ptr<distribute::MultiWorkerMirroredStrategy> distribute;
};

// Test-time augmentation in evaluate and predict: "" (none, the default: the model's own forward
// pass, as every other tool computes it) or "flip" (each image's outputs averaged with its
// mirror image's, flipped along the width axis of inputs shaped (N, H, W[, C])).
struct EvaluateOptions {
  int64_t batch_size = 32;
  int verbose = 1;
  std::string tta;
  std::vector<float> sample_weight;  // one per sample, or empty
  std::vector<Callback*> callbacks;  // not owned; their test hooks are called
  std::ostream* out = &std::cout;
  // The samples split across processes, their results combined (kiln/distribute.hpp).
  std::shared_ptr<distribute::MultiWorkerMirroredStrategy> distribute;
};

struct PredictOptions {
  int64_t batch_size = 32;
  std::string tta;  // as EvaluateOptions::tta
  std::vector<Callback*> callbacks;  // not owned; their predict hooks are called
};

class Trainer {
 public:
  explicit Trainer(Model& model) : model_(model) {}
  // x holds one Inputs per model input; y the labels of the model's one output.
  History fit(std::span<const Inputs> x, const Labels& y, const FitOptions& options);
  // Loss and metrics over all of x, y.
  Logs evaluate(std::span<const Inputs> x, const Labels& y, const EvaluateOptions& options);
  // Every model output (N, ...) for all of x.
  std::vector<Tensor> predict(std::span<const Inputs> x, const PredictOptions& options);
  // The same over a batched pipeline (data::Dataset): fit's options batch_size, shuffle,
  // validation_split, class_weight and sample_weight are the dataset's business, as in Keras
  // (fit refuses them); each epoch is one pass over the dataset, shuffled as it says, its
  // unseeded shuffles and random maps drawing from fit's seed.
  History fit(const data::Dataset& x, const FitOptions& options);
  Logs evaluate(const data::Dataset& x, const EvaluateOptions& options);
  std::vector<Tensor> predict(const data::Dataset& x, const PredictOptions& options);

 private:
  History run_fit(detail::Feed& feed, const std::optional<ValidationData>& val, const FitOptions& options);
  // The loss and metrics over x, y (this process's share of them under a strategy, combined
  // with the others').
  Logs run_test(std::span<const Inputs> x, const Labels& y, std::span<const float> sample_weight,
                int64_t batch_size, Progbar* bar, const std::vector<Callback*>& callbacks,
                const detail::Replicas& replicas, const std::string& tta = "");
  Logs run_test(const data::Dataset& x, Progbar* bar, const std::vector<Callback*>& callbacks,
                const detail::Replicas& replicas, const std::string& tta = "");
  // The loss and metrics over batches: for_each(fn) calls fn(batch, rows, y, weights, first)
  // for each batch, whose targets are y's from sample `first` on.
  template <typename ForEach>
  Logs test_batches(ForEach&& for_each, Progbar* bar, const std::vector<Callback*>& callbacks,
                    const detail::Replicas& replicas, const std::string& tta);
  // Every output for the batches for_each gives (as in test_batches), rows at most in all.
  template <typename ForEach>
  std::vector<Tensor> predict_batches(ForEach&& for_each, int64_t rows, int64_t steps,
                                      const PredictOptions& options);
  // Calls fn(batch, begin, n) for consecutive batches of x, one float tensor per input: slices
  // of x where it holds floats, converted copies in reused buffers where it holds bytes.
  template <typename Fn>
  void for_each_batch(std::span<const Inputs> x, int64_t batch_size, Fn&& fn);
  // Runs inference on `batch` (n rows per input) in slices small enough for the activations to
  // stay in cache (the engine's inference_rows), calling fn(begin, rows) after each slice with
  // its results in model_.output_tensors(). Every sample's result is computed on its own, so the
  // values are those of one pass over the whole batch.
  template <typename Fn>
  void infer_in_slices(std::span<const Tensor* const> batch, int64_t n, Fn&& fn);
  // Inference on a batch with test-time augmentation `tta` (EvaluateOptions::tta): calls
  // fn(first, rows, outputs) with the model's outputs for those rows of the batch (averaged over
  // the batch and its mirror image for "flip").
  template <typename Fn>
  void infer(std::span<const Tensor* const> batch, int64_t n, const std::string& tta, Fn&& fn);
  Model& model_;
  std::vector<Tensor> slices_;  // infer_in_slices' views, reused batch after batch
  std::vector<const Tensor*> slice_views_;
};

}  // namespace kiln
