// Where fit's training batches come from: arrays, gathered by a shuffled index into buffers
// made once, or a pipeline's batches, converted to floats as the model takes them.
#pragma once

#include <optional>
#include <span>

#include "data/spec.hpp"
#include "kiln/data/dataset.hpp"
#include "kiln/model.hpp"
#include "targets.hpp"

namespace kiln::detail {

class Feed {
 public:
  virtual ~Feed() = default;
  // Batches per epoch, and the most rows a batch has.
  virtual int64_t steps() const = 0;
  virtual int64_t batch_rows() const = 0;
  // Called before each epoch's batches, epochs in order from the first one run.
  virtual void start_epoch(int epoch, uint64_t seed) = 0;
  // The next batch: its rows (0 when every sample of it was left out), the inputs in `x` and
  // the targets in `y`, valid until the next call.
  virtual int64_t next(std::span<const Tensor* const>& x, Targets& y) = 0;
  // Whether the batches come from a data::Dataset.
  virtual bool is_pipeline() const { return false; }
  // Makes next() give process `rank`'s share of each batch (distribute::share_of) of a run over
  // `size` processes; steps() and global_rows() stay the whole batches'.
  virtual void set_share(int rank, int size) {
    rank_ = rank;
    size_ = size;
  }
  // The rows of the last batch next() gave, over every process.
  int64_t global_rows() const { return global_rows_; }

 protected:
  // The most rows a process gets of a batch of `rows`.
  int64_t share_rows(int64_t rows) const { return (rows + size_ - 1) / size_; }
  int rank_ = 0, size_ = 1;
  int64_t global_rows_ = 0;
};

// Arrays (fit's x and y, after validation_split), each epoch in the order of a pipeline's full
// shuffle seeded with fit's seed (data::detail::EpochOrders; a resumed run gets its epochs'
// orders).
class ArrayFeed : public Feed {
 public:
  ArrayFeed(const Model& model, std::vector<Inputs> x, const Labels& y, std::vector<float> weights,
            int64_t batch_size, bool shuffle);
  int64_t steps() const override { return steps_; }
  int64_t batch_rows() const override { return share_rows(std::min(bs_, n_)); }
  void start_epoch(int epoch, uint64_t seed) override;
  int64_t next(std::span<const Tensor* const>& x, Targets& y) override;
  void set_share(int rank, int size) override;

 private:
  // This process's views of the buffers for a full batch and for the last one.
  void make_views();

  std::vector<Inputs> x_;
  Labels y_;
  std::vector<float> weights_;
  int64_t n_, bs_, steps_, step_ = 0;
  double scale_;
  bool shuffle_;
  std::vector<int64_t> order_;
  data::detail::EpochOrders orders_;
  std::vector<Tensor> buffers_, full_, last_;
  std::vector<const Tensor*> full_ptrs_, last_ptrs_;
  TargetBatch targets_;
};

// A batched data::Dataset.
class DatasetFeed : public Feed {
 public:
  DatasetFeed(const Model& model, const data::Dataset& dataset, const char* what);
  int64_t steps() const override { return steps_; }
  int64_t batch_rows() const override { return share_rows(dataset_.batch_size()); }
  void start_epoch(int epoch, uint64_t seed) override;
  int64_t next(std::span<const Tensor* const>& x, Targets& y) override;
  bool is_pipeline() const override { return true; }

 private:
  const Model& model_;
  const data::Dataset& dataset_;
  const char* what_;
  int64_t steps_;
  std::optional<data::Iterator> it_;
  data::Batch batch_;
  std::vector<Tensor> shares_;  // this process's rows of batch_'s inputs
  Labels share_y_;
  std::vector<const Tensor*> ptrs_;
};

// Throws ValueError naming `what` unless the dataset is batched.
void check_batched(const data::Dataset& dataset, const char* what);
// What the model reads of a pipeline batch iterated with the model's rescale (so every input is
// floats already, converted by the pipeline's threads): one pointer per input, into `ptrs`.
void batch_views(const data::Batch& batch, std::vector<const Tensor*>& ptrs);

}  // namespace kiln::detail
