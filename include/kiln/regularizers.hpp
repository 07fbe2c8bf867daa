// Weight regularizers with Keras's names, defaults and formulas: a penalty on a layer's kernel
// or bias that fit adds to the loss it minimises and reports, and its gradient to the weight's.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "kiln/ref.hpp"

namespace kiln {

// l1 * sum |w| + l2 * sum w^2 (no 1/2, as in Keras); L1, L2 and L1L2 differ in their defaults
// and in how Keras writes them.
class Regularizer {
 public:
  Regularizer(double l1, double l2);
  virtual ~Regularizer() = default;
  virtual std::string class_name() const = 0;  // "L2"
  // The Keras config: {"l2": 0.01}.
  virtual nlohmann::json config() const = 0;
  // The penalty of the n weights w.
  double value(const float* w, int64_t n) const;
  // g += d(penalty)/dw (the sign of 0 being 0).
  void add_gradient(float* g, const float* w, int64_t n) const;
  double l1() const { return l1_; }
  double l2() const { return l2_; }

 private:
  double l1_, l2_;
};

namespace regularizers {

class L1 : public Regularizer {
 public:
  explicit L1(double l1 = 0.01) : Regularizer(l1, 0.0) {}
  std::string class_name() const override { return "L1"; }
  nlohmann::json config() const override { return {{"l1", l1()}}; }
};

class L2 : public Regularizer {
 public:
  explicit L2(double l2 = 0.01) : Regularizer(0.0, l2) {}
  std::string class_name() const override { return "L2"; }
  nlohmann::json config() const override { return {{"l2", l2()}}; }
};

class L1L2 : public Regularizer {
 public:
  explicit L1L2(double l1 = 0.0, double l2 = 0.0) : Regularizer(l1, l2) {}
  std::string class_name() const override { return "L1L2"; }
  nlohmann::json config() const override { return {{"l1", l1()}, {"l2", l2()}}; }
};

// A regularizer from that form (module and registered_name optional), or by name: "l1", "l2"
// and "L1L2" / "l1l2" with their class defaults, "l1_l2" with l1 = l2 = 0.01 (Keras's
// documented string). Null gives none. ValueError for an unknown name, ConfigError for a config
// field of the wrong type or one the class does not take.
std::shared_ptr<Regularizer> get(const nlohmann::json& name_or_config);

}  // namespace regularizers

// A regularizer given by name ("l2"), as an object (regularizers::L2(1e-4)), or none (the
// default).
class RegularizerRef : public Ref<Regularizer> {
 public:
  using Ref::Ref;
  RegularizerRef() : Ref(std::shared_ptr<Regularizer>()) {}
  RegularizerRef(const char* name) : Ref(regularizers::get(name)) {}
  RegularizerRef(const std::string& name) : Ref(regularizers::get(name)) {}
  explicit operator bool() const { return get() != nullptr; }
};

namespace regularizers {

// {"module": "keras.regularizers", "class_name": "L2", "config": {"l2": 0.01},
// "registered_name": null} as Keras serializes a regularizer; null for none.
nlohmann::json to_config(const RegularizerRef& regularizer);

}  // namespace regularizers

}  // namespace kiln
