// Metrics with Keras's names: update with each batch, read the running result, reset between
// epochs. Each is the weighted mean of a per-sample value, as Keras's MeanMetricWrapper: the sum
// of w_i v_i over the samples seen divided by the sum of w_i (every w_i 1 without weights).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "kiln/losses.hpp"
#include "kiln/tensor.hpp"

namespace kiln {

class Metric {
 public:
  explicit Metric(std::string name) : name_(std::move(name)) {}
  virtual ~Metric() = default;
  const std::string& name() const { return name_; }  // the key in logs and History: "accuracy"
  void set_name(std::string name) { name_ = std::move(name); }
  // Adds a batch of outputs (B, C) and its targets, weighted by y.weights where set. ValueError
  // for float targets given to a metric of integer labels.
  void update(const Tensor& out, const Targets& y);
  // The mean so far, as the float32 Keras keeps it; 0 before any sample.
  double result() const { return mean(total_, count_); }
  void reset() { total_ = count_ = 0; }
  // The running sums behind result(): of w_i v_i and of w_i. The processes of a distributed run
  // add theirs up, and mean() of the sums is the result over all of their samples.
  double total() const { return total_; }
  double count() const { return count_; }
  static double mean(double total, double count);
  // Whether the metric reads integer class labels only.
  virtual bool needs_labels() const { return false; }

 protected:
  // Sum over the batch of w_i v_i.
  virtual double batch_total(const Tensor& out, const Targets& y) const = 0;

 private:
  std::string name_;
  double total_ = 0, count_ = 0;
};

namespace metrics {

// Whether the sample's highest-scoring class is its integer label.
class SparseCategoricalAccuracy : public Metric {
 public:
  explicit SparseCategoricalAccuracy(std::string name = "sparse_categorical_accuracy")
      : Metric(std::move(name)) {}
  bool needs_labels() const override { return true; }

 protected:
  double batch_total(const Tensor& out, const Targets& y) const override;
};

// Whether the highest-scoring class is the target row's (its first largest value; integer
// labels stand for one-hot rows).
class CategoricalAccuracy : public Metric {
 public:
  explicit CategoricalAccuracy(std::string name = "categorical_accuracy")
      : Metric(std::move(name)) {}

 protected:
  double batch_total(const Tensor& out, const Targets& y) const override;
};

// The share of a sample's output values that, thresholded (out > threshold is 1, else 0), equal
// their target.
class BinaryAccuracy : public Metric {
 public:
  explicit BinaryAccuracy(double threshold = 0.5, std::string name = "binary_accuracy")
      : Metric(std::move(name)), threshold_(threshold) {}

 protected:
  double batch_total(const Tensor& out, const Targets& y) const override;

 private:
  double threshold_;
};

// Whether the target class is among the k highest-scoring ones (ties counted in, as TensorFlow's
// in_top_k: fewer than k classes score strictly higher).
class TopKCategoricalAccuracy : public Metric {
 public:
  explicit TopKCategoricalAccuracy(int64_t k = 5, std::string name = "top_k_categorical_accuracy");

 protected:
  double batch_total(const Tensor& out, const Targets& y) const override;

 private:
  int64_t k_;
};

// The same for integer labels.
class SparseTopKCategoricalAccuracy : public Metric {
 public:
  explicit SparseTopKCategoricalAccuracy(int64_t k = 5,
                                         std::string name = "sparse_top_k_categorical_accuracy");
  bool needs_labels() const override { return true; }

 protected:
  double batch_total(const Tensor& out, const Targets& y) const override;

 private:
  int64_t k_;
};

// A loss as a metric ("mse", "categorical_crossentropy"): the mean of its per-sample values.
class LossMetric : public Metric {
 public:
  LossMetric(std::shared_ptr<Loss> loss, std::string name);
  bool needs_labels() const override { return loss_->target_kind() == TargetKind::kLabels; }

 protected:
  double batch_total(const Tensor& out, const Targets& y) const override;

 private:
  std::shared_ptr<Loss> loss_;
};

// What a metric is resolved against, as Keras's compile_utils does on the first batch: whether
// the targets are integer labels, and the output's shape per sample.
struct TargetSpec {
  bool sparse = true;
  Shape output;
};

// A metric by its Keras name, logged under that name. "accuracy" and "acc" become
// binary_accuracy when the output's last axis has one value, else sparse_categorical_accuracy
// for integer labels and categorical_accuracy for float targets. Any loss name ("mse", "mae",
// "binary_crossentropy", ...) gives that loss's mean. ValueError for an unknown name, or a
// metric that cannot read these targets.
std::unique_ptr<Metric> get(const std::string& name, const TargetSpec& targets = {});

// Index of the largest of n scores (the first, on ties).
int64_t argmax(const float* scores, int64_t n);

// The metrics compile() asked for, made for one fit or evaluate. As in Keras, `metrics` see the
// targets without sample weights and `weighted_metrics` with them; a name used twice gets "_1",
// "_2", and a weighted metric named as a plain one is logged as "weighted_<name>".
class MetricList {
 public:
  MetricList(const std::vector<std::string>& metrics,
             const std::vector<std::string>& weighted_metrics, const TargetSpec& targets);
  void update(const Tensor& out, const Targets& y);
  void reset();
  auto begin() const { return metrics_.begin(); }
  auto end() const { return metrics_.end(); }

 private:
  std::vector<std::unique_ptr<Metric>> metrics_;
  size_t weighted_begin_ = 0;  // metrics_[weighted_begin_...] are the weighted ones
};

}  // namespace metrics
}  // namespace kiln
