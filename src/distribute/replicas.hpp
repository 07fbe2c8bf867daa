// What fit and evaluate do differently under a MultiWorkerMirroredStrategy (kiln/distribute.hpp),
// and nothing when there is none: the same calls serve one process and many.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "distribute/gradient_exchange.hpp"
#include "engine.hpp"
#include "kiln/distribute.hpp"
#include "kiln/metrics.hpp"
#include "kiln/model.hpp"

namespace kiln::detail {

class Replicas {
 public:
  explicit Replicas(const distribute::MultiWorkerMirroredStrategy* strategy);
  bool active() const { return strategy_ != nullptr; }
  int rank() const { return strategy_ ? strategy_->rank() : 0; }
  int size() const { return strategy_ ? strategy_->num_replicas_in_sync() : 1; }
  bool chief() const { return rank() == 0; }
  // This process's rows of a batch of `rows`.
  distribute::Share share(int64_t rows) const { return distribute::share_of(rows, rank(), size()); }
  // Callbacks this process runs: all of them on the chief, those that write nothing elsewhere.
  std::vector<Callback*> callbacks(const std::vector<Callback*>& all) const;
  // Gives every process the chief's weights, optimizer state and fit state.
  void sync_from_chief(Model& model, FitState& state) const;
  // The seed of this process's random streams (dropout, augmentation): fit's on the chief, one of
  // its own on each other process, so that their rows do not share masks.
  uint64_t stream_seed(uint64_t seed) const;
  // Whether `flag` is set on any process.
  bool any(bool flag) const;
  // The loss and metrics over every process's samples in `logs` (loss_sum over `seen` samples,
  // each metric's sums), as one process computes them over all of them.
  void log_results(Logs& logs, double loss_sum, int64_t seen, const metrics::MetricList& metrics) const;
  // Averages the weights training changes but the optimizer does not (batch normalization's
  // moving statistics), which each process computed from its own rows.
  void average_moving_statistics(Model& model) const;
  // A data-parallel step's part for a global batch of `rows`; nothing alone.
  const StepShare* step_share(int64_t rows);
  const GradientExchange* exchange() const { return exchange_ ? &*exchange_ : nullptr; }

 private:
  const distribute::MultiWorkerMirroredStrategy* strategy_;
  std::optional<GradientExchange> exchange_;
  StepShare share_{};
  mutable std::vector<double> sums_;
};

}  // namespace kiln::detail
