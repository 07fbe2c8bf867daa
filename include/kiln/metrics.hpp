// Metrics: update with each batch, read the running result, reset between epochs.
#pragma once

#include <memory>
#include <string>

#include "kiln/tensor.hpp"

namespace kiln {

class Metric {
 public:
  virtual ~Metric() = default;
  virtual std::string name() const = 0;  // the key in logs and History: "accuracy"
  virtual void update(const Tensor& out, const int32_t* labels) = 0;
  virtual double result() const = 0;
  virtual void reset() = 0;
};

namespace metrics {

// Share of samples whose highest-scoring class is the label.
class SparseCategoricalAccuracy : public Metric {
 public:
  explicit SparseCategoricalAccuracy(std::string name = "sparse_categorical_accuracy")
      : name_(std::move(name)) {}
  std::string name() const override { return name_; }
  void update(const Tensor& out, const int32_t* labels) override;
  double result() const override;
  void reset() override { correct_ = total_ = 0; }

 private:
  std::string name_;
  int64_t correct_ = 0, total_ = 0;
};

// A metric by its Keras name: "accuracy" (or "acc", "sparse_categorical_accuracy").
std::unique_ptr<Metric> get(const std::string& name);

// Index of the largest of n scores (the first, on ties).
int64_t argmax(const float* scores, int64_t n);

}  // namespace metrics
}  // namespace kiln
