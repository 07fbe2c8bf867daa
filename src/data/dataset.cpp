// Dataset's methods: each returns a new description; the index operations; batch assembly.
#include "kiln/data/dataset.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "data/spec.hpp"
#include "kernels/cpu/convert.hpp"

namespace kiln::data {

using detail::Spec;

Tensor Example::floats(size_t k, double scale) const {
  if (k >= x.size())
    throw ValueError("Example::floats: feature " + std::to_string(k) + " of " + std::to_string(x.size()));
  if (const auto* t = std::get_if<Tensor>(&x[k])) return *t;
  return std::get<ByteTensor>(x[k]).astype<float>(scale);
}

Dataset Dataset::from_tensor_slices(std::vector<Inputs> x, Labels y, std::vector<float> sample_weight) {
  auto spec = std::make_shared<Spec>();
  spec->node = detail::array_node(std::move(x), std::move(y), std::move(sample_weight));
  return Dataset(std::move(spec));
}

Dataset Dataset::from_tensor_slices(Inputs x, Labels y, std::vector<float> sample_weight) {
  return from_tensor_slices(std::vector<Inputs>{std::move(x)}, std::move(y), std::move(sample_weight));
}

Dataset Dataset::from_function(int64_t size, SampleFn get, std::string name, bool has_weights, bool has_labels) {
  auto spec = std::make_shared<Spec>();
  spec->node = detail::function_node(size, std::move(get), std::move(name), has_weights, has_labels);
  return Dataset(std::move(spec));
}

Dataset Dataset::with(const std::function<void(Spec&)>& change) const {
  auto spec = std::make_shared<Spec>(*spec_);
  change(*spec);
  return Dataset(std::move(spec));
}

namespace {

void check_unbatched(const Spec& spec, const char* what) {
  if (spec.batch > 0)
    throw ValueError(std::string(what) + " after batch: kiln's pipelines " + what +
                     " samples, so call it before batch");
  if (!spec.sample_ops.empty() && spec.sample_ops.back().kind != detail::IndexOp::kShuffle)
    throw ValueError(std::string(what) + " after take or skip: call it before them");
}

}  // namespace

Dataset Dataset::map(MapFn fn) const {
  check_unbatched(*spec_, "map");
  return with([&](Spec& s) { s.node = detail::map_node(s.node, std::move(fn)); });
}

Dataset Dataset::cache(const std::filesystem::path& file) const {
  check_unbatched(*spec_, "cache");
  return with([&](Spec& s) { s.node = detail::cache_node(s.node, file); });
}

Dataset Dataset::shuffle(int64_t buffer_size, std::optional<uint64_t> seed, bool reshuffle) const {
  if (buffer_size < 1) throw ValueError("shuffle: buffer_size must be at least 1, received " + std::to_string(buffer_size));
  return with([&](Spec& s) {
    (s.batch > 0 ? s.batch_ops : s.sample_ops).push_back({detail::IndexOp::kShuffle, buffer_size, seed, reshuffle});
  });
}

Dataset Dataset::batch(int64_t batch_size, bool drop_remainder) const {
  if (batch_size < 1) throw ValueError("batch: batch_size must be at least 1, received " + std::to_string(batch_size));
  if (spec_->batch > 0) throw ValueError("batch: the dataset is batched already (batch_size " + std::to_string(spec_->batch) + ")");
  return with([&](Spec& s) {
    s.batch = batch_size;
    s.drop_remainder = drop_remainder;
  });
}

Dataset Dataset::prefetch(int64_t buffer_size, int threads) const {
  if (buffer_size < 0 && buffer_size != AUTOTUNE)
    throw ValueError("prefetch: buffer_size must be >= 0 or AUTOTUNE, received " + std::to_string(buffer_size));
  if (threads < 1 && threads != AUTOTUNE)
    throw ValueError("prefetch: threads must be >= 1 or AUTOTUNE, received " + std::to_string(threads));
  return with([&](Spec& s) {
    s.prefetch = buffer_size == AUTOTUNE ? 8 : buffer_size;
    s.threads = threads;
  });
}

Dataset Dataset::take(int64_t n) const {
  if (n < 0) throw ValueError("take: n must be >= 0, received " + std::to_string(n));
  return with([&](Spec& s) { (s.batch > 0 ? s.batch_ops : s.sample_ops).push_back({detail::IndexOp::kTake, n}); });
}

Dataset Dataset::skip(int64_t n) const {
  if (n < 0) throw ValueError("skip: n must be >= 0, received " + std::to_string(n));
  return with([&](Spec& s) { (s.batch > 0 ? s.batch_ops : s.sample_ops).push_back({detail::IndexOp::kSkip, n}); });
}

int64_t Dataset::cardinality() const {
  const int64_t samples = detail::count_after(spec_->sample_ops, spec_->node->size());
  if (spec_->batch == 0) return samples;
  const int64_t batches = spec_->drop_remainder ? samples / spec_->batch : (samples + spec_->batch - 1) / spec_->batch;
  return detail::count_after(spec_->batch_ops, batches);
}

int64_t Dataset::batch_size() const { return spec_->batch; }

namespace detail {

namespace {

// tf.data's shuffle: out of a buffer filled in order, a random element is taken and its place
// refilled with the next one; when the input is spent, the buffer empties at random.
void buffered_shuffle(std::vector<int64_t>& order, int64_t buffer_size, Rng& rng) {
  const auto n = static_cast<int64_t>(order.size());
  std::vector<int64_t> buffer(order.begin(), order.begin() + buffer_size), out;
  out.reserve(order.size());
  for (int64_t next = buffer_size; !buffer.empty();) {
    const auto pick = static_cast<size_t>(rng.below(buffer.size()));
    out.push_back(buffer[pick]);
    if (next < n) {
      buffer[pick] = order[next++];
    } else {
      buffer[pick] = buffer.back();
      buffer.pop_back();
    }
  }
  order = std::move(out);
}

}  // namespace

std::vector<int64_t> EpochOrders::order(uint64_t seed, int epoch, int64_t n) {
  std::lock_guard lock(mutex_);
  if (!rng_ || seed != seed_ || epoch < epoch_ || static_cast<int64_t>(order_.size()) != n) {
    rng_.emplace(seed);
    seed_ = seed;
    epoch_ = -1;
    order_.resize(static_cast<size_t>(n));
    std::iota(order_.begin(), order_.end(), 0);
  }
  for (; epoch_ < epoch; ++epoch_) rng_->shuffle(std::span<int64_t>(order_));
  return order_;
}

std::vector<int64_t> apply(const std::vector<IndexOp>& ops, int64_t n, const Context& context) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  for (size_t k = 0; k < ops.size(); ++k) {
    const IndexOp& op = ops[k];
    const auto size = static_cast<int64_t>(order.size());
    if (op.kind == IndexOp::kShuffle) {
      // The first shuffle draws from the run's seed itself, as fit does for arrays; later ones
      // from seeds of their own.
      uint64_t seed = op.seed ? *op.seed : context.seed;
      if (k > 0) seed = RandomStream(seed).fork(0x73687566 + k).key();
      const int epoch = op.reshuffle_each_iteration ? context.epoch : 0;
      if (op.n >= size) {
        const std::vector<int64_t> perm = op.orders->order(seed, epoch, size);
        std::vector<int64_t> shuffled(order.size());
        for (size_t i = 0; i < order.size(); ++i) shuffled[i] = order[static_cast<size_t>(perm[i])];
        order = std::move(shuffled);
      } else {
        Rng rng(RandomStream(seed).fork(static_cast<uint64_t>(epoch)).key());
        buffered_shuffle(order, op.n, rng);
      }
    } else if (op.kind == IndexOp::kTake) {
      order.resize(static_cast<size_t>(std::min(op.n, size)));
    } else {
      order.erase(order.begin(), order.begin() + std::min(op.n, size));
    }
  }
  return order;
}

int64_t count_after(const std::vector<IndexOp>& ops, int64_t n) {
  for (const auto& op : ops) {
    if (op.kind == IndexOp::kTake) n = std::min(n, op.n);
    if (op.kind == IndexOp::kSkip) n = std::max<int64_t>(0, n - op.n);
  }
  return n;
}

namespace {

// One batch array being filled sample by sample.
struct Column {
  bool bytes = false;
  Shape shape;  // of a sample
  ByteTensor b;
  Tensor f;
};

std::string describe(const Feature& f) { return shape_str(feature_shape(f)) + (is_bytes(f) ? " uint8" : " float32"); }

}  // namespace

Batch assemble(const Node& node, const int64_t* rows, int64_t n, const Context& context) {
  std::vector<Column> columns;
  std::vector<int32_t> labels;
  Tensor targets;
  std::vector<float> weights;
  Example e;
  int64_t kept = 0;
  for (int64_t i = 0; i < n; ++i) {
    e.x.clear();
    e.label = 0;
    e.target = Tensor();
    e.weight = 1;
    if (!node.get(rows[i], context, e)) continue;
    if (kept == 0) {
      for (const auto& f : e.x) {
        Column c{is_bytes(f), feature_shape(f), {}, {}};
        Shape all = c.shape;
        all.insert(all.begin(), n);
        if (c.bytes && !context.scale)
          c.b = ByteTensor(all);
        else
          c.f = Tensor(all);
        columns.push_back(std::move(c));
      }
      if (!e.target.empty()) {
        Shape all = e.target.shape();
        all.insert(all.begin(), n);
        targets = Tensor(all);
      }
    }
    if (e.x.size() != columns.size())
      throw ShapeError("batch: sample " + std::to_string(rows[i]) + " has " + std::to_string(e.x.size()) +
                       " features, the batch's first sample " + std::to_string(columns.size()));
    for (size_t k = 0; k < columns.size(); ++k) {
      Column& c = columns[k];
      if (is_bytes(e.x[k]) != c.bytes || feature_shape(e.x[k]) != c.shape)
        throw ShapeError("batch: sample " + std::to_string(rows[i]) + " has feature " + std::to_string(k) + " " +
                         describe(e.x[k]) + ", the batch's first sample " + shape_str(c.shape) +
                         (c.bytes ? " uint8" : " float32") + "; resize or convert samples to one shape before batching");
      const int64_t size = shape_size(c.shape);
      if (c.bytes && context.scale)
        cpu::scale_bytes(std::get<ByteTensor>(e.x[k]).data(), size, *context.scale, c.f.data() + kept * size);
      else if (c.bytes)
        std::memcpy(c.b.data() + kept * size, std::get<ByteTensor>(e.x[k]).data(), static_cast<size_t>(size));
      else
        std::memcpy(c.f.data() + kept * size, std::get<Tensor>(e.x[k]).data(), sizeof(float) * static_cast<size_t>(size));
    }
    if (targets.rank() > 0) {
      if (e.target.shape() != Shape(targets.shape().begin() + 1, targets.shape().end()))
        throw ShapeError("batch: sample " + std::to_string(rows[i]) + " has a target of shape " +
                         shape_str(e.target.shape()) + ", the batch's first sample " +
                         shape_str(Shape(targets.shape().begin() + 1, targets.shape().end())));
      std::memcpy(targets.data() + kept * e.target.size(), e.target.data(), sizeof(float) * e.target.size());
    } else {
      labels.push_back(e.label);
    }
    weights.push_back(e.weight);
    ++kept;
  }
  Batch batch;
  for (const auto& c : columns) batch.x.push_back(c.f.empty() ? Inputs(c.b.slice(0, kept)) : Inputs(c.f.slice(0, kept)));
  if (node.has_labels()) batch.y = targets.rank() > 0 ? Labels(targets.slice(0, kept)) : Labels(std::move(labels));
  if (node.has_weights()) batch.sample_weight = std::move(weights);
  return batch;
}

}  // namespace detail

}  // namespace kiln::data
