#include "trainer_feed.hpp"

#include <numeric>

#include "kiln/distribute.hpp"
#include "trainer_checks.hpp"

namespace kiln::detail {

ArrayFeed::ArrayFeed(const Model& model, std::vector<Inputs> x, const Labels& y, std::vector<float> weights,
                     int64_t batch_size, bool shuffle)
    : x_(std::move(x)),
      y_(y),
      weights_(std::move(weights)),
      n_(x_[0].rows()),
      bs_(batch_size),
      steps_((n_ + bs_ - 1) / bs_),
      scale_(model.preprocessing.rescale),
      shuffle_(shuffle),
      order_(static_cast<size_t>(n_)),
      targets_(y_, weights_, std::min(bs_, n_)) {
  std::iota(order_.begin(), order_.end(), 0);
  // One batch buffer per input: no allocation inside the loop.
  for (const auto& in : x_) {
    Shape batch_shape = in.shape();
    batch_shape[0] = std::min(bs_, n_);
    buffers_.emplace_back(batch_shape);
  }
  make_views();
}

void ArrayFeed::make_views() {
  full_.clear();
  last_.clear();
  full_ptrs_.clear();
  last_ptrs_.clear();
  const int64_t last_rows = n_ - (steps_ - 1) * bs_;
  for (const auto& buffer : buffers_) {
    full_.push_back(buffer.with_rows(distribute::share_of(std::min(bs_, n_), rank_, size_).rows()));
    last_.push_back(buffer.with_rows(distribute::share_of(last_rows, rank_, size_).rows()));
  }
  for (size_t k = 0; k < x_.size(); ++k) {
    full_ptrs_.push_back(&full_[k]);
    last_ptrs_.push_back(&last_[k]);
  }
}

void ArrayFeed::set_share(int rank, int size) {
  Feed::set_share(rank, size);
  make_views();
}

void ArrayFeed::start_epoch(int epoch, uint64_t seed) {
  step_ = 0;
  if (!shuffle_) return;
  order_ = orders_.order(seed, epoch, n_);
}

int64_t ArrayFeed::next(std::span<const Tensor* const>& x, Targets& y) {
  const int64_t begin = step_ * bs_, b = std::min(bs_, n_ - begin);
  const auto share = distribute::share_of(b, rank_, size_);
  const int64_t first = begin + share.begin, rows = share.rows();
  const bool full = step_ + 1 < steps_ || b == std::min(bs_, n_);
  for (size_t k = 0; k < x_.size(); ++k) {
    x_[k].gather(order_.data() + first, rows, (full ? full_[k] : last_[k]).data(), scale_);
    if (step_ + 1 < steps_) {
      const auto next = distribute::share_of(std::min(bs_, n_ - begin - bs_), rank_, size_);
      x_[k].prefetch(order_.data() + begin + bs_ + next.begin, next.rows());
    }
  }
  x = full ? full_ptrs_ : last_ptrs_;
  y = targets_.gather(order_.data() + first, rows);
  global_rows_ = b;
  ++step_;
  return rows;
}

void check_batched(const data::Dataset& dataset, const char* what) {
  if (dataset.batch_size() == 0)
    throw ValueError(std::string(what) + ": the dataset is not batched; call .batch(32) (or another size) on it first");
}

void batch_views(const data::Batch& batch, std::vector<const Tensor*>& ptrs) {
  ptrs.clear();
  for (const Inputs& in : batch.x) ptrs.push_back(&in.floats());
}

DatasetFeed::DatasetFeed(const Model& model, const data::Dataset& dataset, const char* what)
    : model_(model), dataset_(dataset), what_(what), steps_(dataset.cardinality()) {
  check_batched(dataset, what);
}

void DatasetFeed::start_epoch(int epoch, uint64_t seed) {
  it_.reset();
  it_.emplace(dataset_.iterate(epoch, seed, model_.preprocessing.rescale));
}

int64_t DatasetFeed::next(std::span<const Tensor* const>& x, Targets& y) {
  if (!it_->next(batch_))
    throw ValueError(std::string(what_) + ": the dataset ended before its " + std::to_string(steps_) + " batches");
  const int64_t rows = batch_.size();
  global_rows_ = rows;
  if (rows == 0) return 0;
  if (batch_.y.size() == 0)
    throw ValueError(std::string(what_) + ": the dataset's samples have no targets (a dataset of inputs only)");
  check_data(model_, batch_.x, batch_.y, what_);
  check_sample_weight(batch_.sample_weight, rows, what_);
  if (size_ == 1) {
    batch_views(batch_, ptrs_);
    x = ptrs_;
    y = batch_.y.at(0, batch_.sample_weight);
    return rows;
  }
  const auto share = distribute::share_of(rows, rank_, size_);
  shares_.clear();
  ptrs_.clear();
  for (const Inputs& in : batch_.x) shares_.push_back(in.floats().slice(share.begin, share.end));
  for (const Tensor& t : shares_) ptrs_.push_back(&t);
  x = ptrs_;
  share_y_ = batch_.y.slice(share.begin, share.end);
  const std::span<const float> weights(batch_.sample_weight);
  y = share_y_.at(0, weights.empty() ? weights : weights.subspan(share.begin, share.rows()));
  return share.rows();
}

}  // namespace kiln::detail
