// Optimizers update the model's flat parameter arena in place and own their state arena.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "kiln/ref.hpp"
#include "kiln/tensor.hpp"

namespace kiln {

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual std::string class_name() const = 0;  // "SGD"
  // Allocates state for n parameters (called when the model is compiled).
  virtual void build(int64_t n) = 0;
  // One step: w (n) is updated from its gradient g (n).
  virtual void update(float* w, const float* g, int64_t n) = 0;
  // Keras's optimizer config: {"name": "SGD", "learning_rate": 0.01, ...}.
  virtual nlohmann::json config() const = 0;
  // The learning rate when a step is exactly w -= rate * g with no state (so the model may apply
  // it where gradients are produced), else 0.
  virtual float plain_sgd_learning_rate() const { return 0.0f; }
  int64_t iterations() const { return iterations_; }
  // Counts a step the model applied itself (see plain_sgd_learning_rate).
  void count_step() { ++iterations_; }

 protected:
  int64_t iterations_ = 0;
};

namespace optimizers {

struct SGDOptions {
  double learning_rate = 0.01;
  double momentum = 0.0;
  bool nesterov = false;
};

class SGD : public Optimizer {
 public:
  SGD(SGDOptions options = {});
  std::string class_name() const override { return "SGD"; }
  void build(int64_t n) override;
  void update(float* w, const float* g, int64_t n) override;
  nlohmann::json config() const override;
  float plain_sgd_learning_rate() const override {
    return options_.momentum == 0.0 ? static_cast<float>(options_.learning_rate) : 0.0f;
  }

 private:
  SGDOptions options_;
  Tensor velocity_;
};

struct AdamOptions {
  double learning_rate = 0.001;
  double beta_1 = 0.9;
  double beta_2 = 0.999;
  double epsilon = 1e-7;
};

class Adam : public Optimizer {
 public:
  Adam(AdamOptions options = {});
  std::string class_name() const override { return "Adam"; }
  void build(int64_t n) override;
  void update(float* w, const float* g, int64_t n) override;
  nlohmann::json config() const override;

 private:
  AdamOptions options_;
  Tensor m_, v_;
};

// An optimizer from its Keras name ("sgd", "adam") or config ({"class_name": "SGD", "config": {...}}).
std::shared_ptr<Optimizer> get(const nlohmann::json& name_or_config);

}  // namespace optimizers

// An optimizer given by name ("sgd") or as an object (optimizers::SGD({.momentum = 0.9})).
class OptimizerRef : public Ref<Optimizer> {
 public:
  using Ref::Ref;
  OptimizerRef(const char* name) : Ref(optimizers::get(name)) {}
  OptimizerRef(const std::string& name) : Ref(optimizers::get(name)) {}
};

}  // namespace kiln
