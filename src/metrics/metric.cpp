// The weighted mean every metric keeps, losses as metrics, metrics by Keras name, and the list
// of a compiled model's metrics.
#include <set>

#include "kiln/metrics.hpp"

namespace kiln {

void Metric::update(const Tensor& out, const Targets& y) {
  if (needs_labels() && !y.labels)
    throw ValueError("metric '" + name_ +
                     "' takes integer class labels, received float targets shaped as the output");
  total_ += batch_total(out, y);
  const int64_t B = out.dim(0);
  if (!y.weights) {
    count_ += static_cast<double>(B);
    return;
  }
  for (int64_t r = 0; r < B; ++r) count_ += y.weights[r];
}

double Metric::mean(double total, double count) {
  // Keras keeps metric state in float32; reporting the float32 value keeps logs identical.
  return count != 0 ? static_cast<double>(static_cast<float>(total / count)) : 0.0;
}

namespace metrics {

LossMetric::LossMetric(std::shared_ptr<Loss> loss, std::string name)
    : Metric(std::move(name)), loss_(std::move(loss)) {}

double LossMetric::batch_total(const Tensor& out, const Targets& y) const {
  return loss_->forward(out, y);
}

namespace {

int64_t last_axis(const Shape& output) { return output.empty() ? 0 : output.back(); }

std::unique_ptr<Metric> make(const std::string& name, const TargetSpec& targets) {
  if (name == "accuracy" || name == "acc") {
    if (last_axis(targets.output) == 1) return std::make_unique<BinaryAccuracy>(0.5, name);
    if (targets.sparse) return std::make_unique<SparseCategoricalAccuracy>(name);
    return std::make_unique<CategoricalAccuracy>(name);
  }
  if (name == "sparse_categorical_accuracy" || name == "SparseCategoricalAccuracy")
    return std::make_unique<SparseCategoricalAccuracy>(name);
  if (name == "categorical_accuracy" || name == "CategoricalAccuracy")
    return std::make_unique<CategoricalAccuracy>(name);
  if (name == "binary_accuracy" || name == "BinaryAccuracy")
    return std::make_unique<BinaryAccuracy>(0.5, name);
  if (name == "top_k_categorical_accuracy" || name == "TopKCategoricalAccuracy")
    return std::make_unique<TopKCategoricalAccuracy>(5, name);
  if (name == "sparse_top_k_categorical_accuracy" || name == "SparseTopKCategoricalAccuracy")
    return std::make_unique<SparseTopKCategoricalAccuracy>(5, name);
  std::shared_ptr<Loss> loss;
  try {
    loss = losses::get(name);
  } catch (const ValueError&) {
    throw ValueError(
        "unknown metric '" + name +
        "'; expected \"accuracy\", \"sparse_categorical_accuracy\", \"categorical_accuracy\", "
        "\"binary_accuracy\", \"top_k_categorical_accuracy\", "
        "\"sparse_top_k_categorical_accuracy\" "
        "or a loss name (\"mse\", \"mae\", \"categorical_crossentropy\", ...)");
  }
  const int64_t values = targets.output.empty() ? 1 : shape_size(targets.output);
  if (loss->target_kind() == TargetKind::kValues && targets.sparse && values != 1)
    throw ValueError("metric '" + name + "' compares the output with targets of its shape " +
                     shape_str(targets.output) + ", received integer labels (one per sample)");
  return std::make_unique<LossMetric>(std::move(loss), name);
}

}  // namespace

std::unique_ptr<Metric> get(const std::string& name, const TargetSpec& targets) {
  auto metric = make(name, targets);
  if (!targets.sparse && metric->needs_labels())
    throw ValueError("metric '" + name +
                     "' takes integer class labels, received float targets shaped " +
                     shape_str(targets.output) + " per sample");
  return metric;
}

MetricList::MetricList(const std::vector<std::string>& metrics,
                       const std::vector<std::string>& weighted_metrics,
                       const TargetSpec& targets) {
  std::set<std::string> used;
  // A free name from `name`: itself, else name_1, name_2, ...
  auto unique = [&](const std::string& name) {
    std::string out = name;
    for (int i = 1; used.contains(out); ++i) out = name + "_" + std::to_string(i);
    used.insert(out);
    return out;
  };
  for (const auto& name : metrics) {
    metrics_.push_back(get(name, targets));
    metrics_.back()->set_name(unique(name));
  }
  weighted_begin_ = metrics_.size();
  for (const auto& name : weighted_metrics) {
    metrics_.push_back(get(name, targets));
    metrics_.back()->set_name(unique(used.contains(name) ? "weighted_" + name : name));
  }
}

void MetricList::update(const Tensor& out, const Targets& y) {
  Targets plain = y;
  plain.weights = nullptr;
  for (size_t i = 0; i < metrics_.size(); ++i)
    metrics_[i]->update(out, i < weighted_begin_ ? plain : y);
}

void MetricList::reset() {
  for (auto& m : metrics_) m->reset();
}

}  // namespace metrics
}  // namespace kiln
