// What fit and evaluate do with targets and sample weights beyond the loop: check them against
// the model and its loss, turn class_weight into per-sample weights, and gather a batch of them
// into buffers sized once (a training step allocates nothing).
#pragma once

#include <map>
#include <span>
#include <vector>

#include "kiln/model.hpp"

namespace kiln::detail {

// ShapeError or ValueError, prefixed with `what`, unless y suits the model's loss and output:
// integer labels within the classes for the categorical cross-entropies, float targets shaped as
// the output (or [N] for an output of one value per sample), integer labels as the values of an
// output of one value for the other losses.
void check_targets(const Model& model, const Labels& y, const char* what);
// ValueError unless weights is empty or holds one weight per sample.
void check_sample_weight(std::span<const float> weights, int64_t samples, const char* what);
// Keras's class_weight_to_sample_weights: each sample's class (its label, the first largest
// value of its target row, or its one target value rounded) weighs class_weight[class], 1 for a
// class the map lacks.
std::vector<float> class_weight_to_sample_weights(const std::map<int, double>& class_weight,
                                                  const Labels& y);

// A batch of targets (and weights) gathered from a dataset by sample index.
class TargetBatch {
 public:
  // Buffers for batches of up to `batch` samples of y; weights (one per sample of y) or empty.
  TargetBatch(const Labels& y, std::span<const float> weights, int64_t batch);
  // Samples rows[i], i in [0, n), as a loss reads them.
  const Targets& gather(const int64_t* rows, int64_t n);

 private:
  const Labels& y_;
  std::span<const float> weights_;
  std::vector<int32_t> labels_;
  std::vector<float> values_, batch_weights_;
  Targets targets_;
};

}  // namespace kiln::detail
