#include "targets.hpp"

#include <cmath>
#include <cstring>

namespace kiln::detail {

void check_targets(const Model& model, const Labels& y, const char* what) {
  const Loss& loss = *model.loss();
  const Shape& out = model.output_shape();
  const int64_t classes = shape_size(out);
  Shape expected = out;
  expected.insert(expected.begin(), y.size());
  if (y.sparse()) {
    if (loss.target_kind() == TargetKind::kValues) {
      if (classes != 1)
        throw ShapeError(std::string(what) + ": loss '" + loss.name() +
                         "' takes float targets shaped as the output " + shape_str(expected) +
                         ", received integer labels shaped [" + std::to_string(y.size()) + "]");
      return;
    }
    for (int64_t i = 0; i < y.size(); ++i)
      if (y[i] < 0 || y[i] >= classes)
        throw ValueError(std::string(what) + ": label " + std::to_string(y[i]) + " at index " +
                         std::to_string(i) + " is out of range for a model with " +
                         std::to_string(classes) + " outputs");
    return;
  }
  const Shape& got = y.floats().shape();
  if (loss.target_kind() == TargetKind::kLabels)
    throw ValueError(std::string(what) + ": loss '" + loss.name() +
                     "' takes integer class labels (shape [N]), received float targets shaped " +
                     shape_str(got) + "; use categorical_crossentropy for one-hot targets");
  const bool fits = Shape(got.begin() + 1, got.end()) == out || (got.size() == 1 && classes == 1);
  if (!fits)
    throw ShapeError(std::string(what) + ": loss '" + loss.name() +
                     "' takes targets shaped as the output " + shape_str(expected) +
                     ", received targets shaped " + shape_str(got));
}

void check_sample_weight(std::span<const float> weights, int64_t samples, const char* what) {
  if (!weights.empty() && static_cast<int64_t>(weights.size()) != samples)
    throw ValueError(std::string(what) + ": sample_weight needs one weight per sample (" +
                     std::to_string(samples) + "), received " + std::to_string(weights.size()));
}

std::vector<float> class_weight_to_sample_weights(const std::map<int, double>& class_weight,
                                                  const Labels& y) {
  std::vector<float> weights(static_cast<size_t>(y.size()));
  const int64_t row = y.sparse() ? 1 : y.floats().row_size();
  for (int64_t i = 0; i < y.size(); ++i) {
    int64_t cls = 0;
    if (y.sparse())
      cls = y[i];
    else if (row == 1)
      cls = static_cast<int64_t>(std::nearbyint(y.floats()[i]));  // NumPy's round: halves to even
    else
      cls = metrics::argmax(y.floats().data() + i * row, row);
    const auto found = class_weight.find(static_cast<int>(cls));
    weights[i] = found == class_weight.end() ? 1.0f : static_cast<float>(found->second);
  }
  return weights;
}

TargetBatch::TargetBatch(const Labels& y, std::span<const float> weights, int64_t batch)
    : y_(y), weights_(weights) {
  if (y.sparse())
    labels_.resize(static_cast<size_t>(batch));
  else
    values_.resize(static_cast<size_t>(batch * y.floats().row_size()));
  if (!weights.empty()) batch_weights_.resize(static_cast<size_t>(batch));
}

const Targets& TargetBatch::gather(const int64_t* rows, int64_t n) {
  if (y_.sparse()) {
    for (int64_t i = 0; i < n; ++i) labels_[i] = y_[rows[i]];
    targets_ = Targets(labels_.data());
  } else {
    const int64_t row = y_.floats().row_size();
    for (int64_t i = 0; i < n; ++i)
      std::memcpy(values_.data() + i * row, y_.floats().data() + rows[i] * row,
                  sizeof(float) * row);
    targets_ = Targets(values_.data());
  }
  if (!weights_.empty()) {
    for (int64_t i = 0; i < n; ++i) batch_weights_[i] = weights_[rows[i]];
    targets_.weights = batch_weights_.data();
  }
  return targets_;
}

}  // namespace kiln::detail
