// An input pipeline with tf.data's vocabulary: samples from arrays, image files or a function,
// then map, cache, shuffle, batch and prefetch. Every stage before batch works sample by sample
// on demand: a sample is read (a file decoded), mapped and cached only when a batch needs it,
// and prefetch builds the next batches on background threads while the model trains.
// Model::fit, evaluate and predict take a batched Dataset as they take arrays.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "kiln/random.hpp"
#include "kiln/trainer.hpp"

namespace kiln::data {

// tf.data's tuning value: prefetch(AUTOTUNE) keeps eight batches ahead (refilled when half are
// used) on one background thread per core.
inline constexpr int64_t AUTOTUNE = -1;

// One array of a sample, without the batch axis: uint8 pixels (scaled by the model's
// preprocessing.rescale when a batch reaches the model, as arrays of bytes are) or floats (used
// as they are).
using Feature = std::variant<ByteTensor, Tensor>;

// One sample: one feature per model input, its target and its weight.
struct Example {
  std::vector<Feature> x;
  int32_t label = 0;  // the class, when `target` is empty
  Tensor target;      // a float target (a one-hot row, a 0/1 value...), else empty
  float weight = 1;   // the sample's weight, when the dataset carries weights
  // The feature k as floats times `scale` (bytes), or as it is (floats).
  Tensor floats(size_t k, double scale = 1.0) const;
};

// A batch as the model takes it: (b, ...) arrays, one per input, their targets and weights.
struct Batch {
  std::vector<Inputs> x;
  Labels y;
  std::vector<float> sample_weight;  // one per sample, or empty when the dataset has none
  int64_t size() const { return x.empty() ? 0 : x[0].rows(); }
};

// A user function applied to every sample by map. It runs on the pipeline's threads, several
// samples at once, so it must not change shared state. `random` is the sample's own stream of
// numbers by position (random.uniform(0), random.uniform(1), ...), keyed by the run's seed, the
// epoch and the sample's index: the same run draws the same numbers whatever the threads do.
using MapFn = std::function<void(Example& example, const RandomStream& random)>;

// Samples made on demand: get(i, example) fills sample i of [0, size) and returns true, or false
// to leave it out of its batch (a file that cannot be read, skipped). It is called from several
// threads at once.
using SampleFn = std::function<bool(int64_t i, Example& example)>;

namespace detail {
struct Spec;
}

class Iterator;

// A pipeline description: cheap to copy, each method returns a new Dataset (as in tf.data).
class Dataset {
 public:
  // Sample i is row i of each x (and of y and sample_weight, when given).
  static Dataset from_tensor_slices(std::vector<Inputs> x, Labels y = {},
                                    std::vector<float> sample_weight = {});
  static Dataset from_tensor_slices(Inputs x, Labels y = {}, std::vector<float> sample_weight = {});
  // `size` samples from `get`; `name` says what they are and identifies the data in a cache
  // file (the file is made again when the name changes). has_weights: the samples' weights
  // count; has_labels: their targets do (else the dataset is of inputs only, for predict).
  static Dataset from_function(int64_t size, SampleFn get, std::string name,
                               bool has_weights = false, bool has_labels = true);

  // fn applied to each sample. A random map draws again every epoch unless a cache follows it.
  Dataset map(MapFn fn) const;
  // Keeps each sample as it comes out of the stages before, the first time it is made: in memory
  // (no file), or in `file`, which a later run with the same data reads instead of computing the
  // samples again. Samples must all have the same shapes. Unlike tf.data's, a cache after a
  // shuffle stores samples, not their order, so the next epochs are shuffled still.
  Dataset cache(const std::filesystem::path& file = {}) const;
  // tf.data's buffered shuffle: a sample is drawn at random from a buffer of `buffer_size`
  // refilled in order (a buffer as large as the dataset shuffles it uniformly). Unseeded, the
  // seed comes from the run (fit's seed) or, outside fit, from utils::global_rng().
  Dataset shuffle(int64_t buffer_size, std::optional<uint64_t> seed = {},
                  bool reshuffle_each_iteration = true) const;
  Dataset batch(int64_t batch_size, bool drop_remainder = false) const;
  // Builds up to buffer_size batches ahead of the consumer on `threads` background threads
  // (AUTOTUNE: eight batches, one thread per core); a thread that finds the buffer full sleeps
  // until half of it is used. Without prefetch, each batch is built when it is asked for, on
  // the caller's thread.
  Dataset prefetch(int64_t buffer_size = AUTOTUNE, int threads = AUTOTUNE) const;
  // The first n elements (samples, or batches after batch), or all but them.
  Dataset take(int64_t n) const;
  Dataset skip(int64_t n) const;

  // Elements per epoch: batches once batched, else samples.
  int64_t cardinality() const;
  // The batch size (0 before batch).
  int64_t batch_size() const;
  // One pass over the data: epoch `epoch` of a run seeded with `seed` (shuffles and random maps
  // without a seed of their own draw from it). With `scale`, the batches hold uint8 features as
  // floats times scale, converted by the threads that build them (fit passes the model's
  // preprocessing.rescale, so the training loop receives batches ready to use).
  Iterator iterate(int epoch = 0, std::optional<uint64_t> seed = {}, std::optional<double> scale = {}) const;

 private:
  explicit Dataset(std::shared_ptr<const detail::Spec> spec) : spec_(std::move(spec)) {}
  Dataset with(const std::function<void(detail::Spec&)>& change) const;
  std::shared_ptr<const detail::Spec> spec_;
  friend class Iterator;
};

// One pass: next() gives the batches in order (unbatched datasets give batches of one sample),
// and counts the time the caller spent waiting for them.
class Iterator {
 public:
  Iterator(Iterator&&) noexcept;
  ~Iterator();
  // The next batch, or false at the end of the pass. Rethrows a sample's error (a file that
  // cannot be read, a map that threw) on the caller's thread.
  bool next(Batch& batch);
  // Seconds next() spent waiting for a batch that was not ready.
  double waited_seconds() const;

 private:
  struct State;
  explicit Iterator(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
  friend class Dataset;
};

}  // namespace kiln::data
