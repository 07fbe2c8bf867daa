// The inside of a Dataset: a chain of sample stages (a source, maps, caches) that make sample i
// on demand, the index operations (shuffle, take, skip) applied to each epoch's order of
// samples and of batches, and how batches are built.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "kiln/data/dataset.hpp"

namespace kiln::data::detail {

// What a sample stage knows of the pass it serves.
struct Context {
  int epoch = 0;
  uint64_t seed = 0;
  std::optional<double> scale;  // set: batches hold byte features as floats times it
};

// A stage that makes sample i of [0, size()). Called from several threads at once.
class Node {
 public:
  virtual ~Node() = default;
  virtual int64_t size() const = 0;
  // Fills `example` with sample i and returns true, or returns false when it is left out.
  virtual bool get(int64_t i, const Context& context, Example& example) const = 0;
  // Identifies the data and every stage applied to it (a cache file records it).
  virtual std::string name() const = 0;
  virtual bool has_labels() const = 0;
  virtual bool has_weights() const = 0;
};

// The full shuffles of a run: one Rng(seed) shuffles [0, n) again every epoch, each epoch's
// order a shuffle of the one before (the order fit has always given arrays, which its documented
// results were measured with). Keeps the last epoch's order and generator, so that epoch after
// epoch costs one shuffle each; an earlier epoch or another seed starts again from epoch 0.
class EpochOrders {
 public:
  std::vector<int64_t> order(uint64_t seed, int epoch, int64_t n);

 private:
  std::mutex mutex_;
  std::optional<Rng> rng_;
  uint64_t seed_ = 0;
  int epoch_ = -1;
  std::vector<int64_t> order_;
};

// shuffle, take or skip, over samples (before batch) or batches (after).
struct IndexOp {
  enum Kind { kShuffle, kTake, kSkip } kind;
  int64_t n = 0;  // the buffer size, or the count taken or skipped
  std::optional<uint64_t> seed;
  bool reshuffle_each_iteration = true;
  std::shared_ptr<EpochOrders> orders = std::make_shared<EpochOrders>();  // a full shuffle's
};

struct Spec {
  std::shared_ptr<const Node> node;
  std::vector<IndexOp> sample_ops, batch_ops;
  int64_t batch = 0;  // 0: not batched
  bool drop_remainder = false;
  int64_t prefetch = 0;  // batches built ahead; 0: none
  int threads = 0;
};

// The indices [0, n) after ops, for the epoch and seed of `context`.
std::vector<int64_t> apply(const std::vector<IndexOp>& ops, int64_t n, const Context& context);
// Elements left after take and skip, from n.
int64_t count_after(const std::vector<IndexOp>& ops, int64_t n);

// The batch of samples rows[i], i in [0, n): their features stacked, targets and weights.
// Throws ShapeError when two samples' features differ in shape or type.
Batch assemble(const Node& node, const int64_t* rows, int64_t n, const Context& context);

// The sample stages (nodes.cpp, cache.cpp).
std::shared_ptr<const Node> array_node(std::vector<Inputs> x, Labels y, std::vector<float> weights);
std::shared_ptr<const Node> function_node(int64_t size, SampleFn get, std::string name,
                                          bool has_weights, bool has_labels);
std::shared_ptr<const Node> map_node(std::shared_ptr<const Node> parent, MapFn fn);
std::shared_ptr<const Node> cache_node(std::shared_ptr<const Node> parent,
                                       const std::filesystem::path& file);

// The shape of a feature (without the batch axis) and whether it holds bytes.
Shape feature_shape(const Feature& f);
bool is_bytes(const Feature& f);

}  // namespace kiln::data::detail
