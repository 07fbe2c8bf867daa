// The checks fit, evaluate and predict share on their data, and the float32 rounding of the
// means they log (Keras keeps metric state in float32).
#pragma once

#include <span>

#include "kiln/model.hpp"
#include "targets.hpp"

namespace kiln::detail {

// The inputs fit the model's: one per model input, each of the model's shape, all with the same
// number of samples.
inline void check_inputs(const Model& model, std::span<const Inputs> x, const char* what) {
  const auto& inputs = model.inputs();
  if (x.size() != inputs.size())
    throw ValueError(std::string(what) + ": the model has " + std::to_string(inputs.size()) +
                     " inputs, received " + std::to_string(x.size()) + " arrays");
  for (size_t k = 0; k < x.size(); ++k) {
    if (x[k].rank() == 0) throw ShapeError(std::string(what) + ": expected a batch of inputs, received a scalar");
    if (x[k].rows() != x[0].rows())
      throw ShapeError(std::string(what) + ": input " + std::to_string(k) + " has " + std::to_string(x[k].rows()) +
                       " samples, input 0 has " + std::to_string(x[0].rows()));
    const Shape& want = inputs[k].shape();
    if (!input_fits(want, std::span(x[k].shape()).subspan(1))) {
      Shape expected = want;
      expected.insert(expected.begin(), x[k].rows());
      throw ShapeError(model.class_name() + " '" + model.name() + "' expects inputs shaped " + shape_str(expected) +
                       " (batch first), received " + shape_str(x[k].shape()));
    }
  }
}

inline void check_data(const Model& model, std::span<const Inputs> x, const Labels& y, const char* what) {
  if (model.outputs().size() != 1)
    throw ValueError(std::string(what) + ": the model has " + std::to_string(model.outputs().size()) +
                     " outputs; fit and evaluate take models with one output (one loss)");
  check_inputs(model, x, what);
  if (x[0].rows() != y.size())
    throw ShapeError(std::string(what) + ": x has " + std::to_string(x[0].rows()) + " samples (shape " +
                     shape_str(x[0].shape()) + ") but y has " + std::to_string(y.size()) + " labels");
  check_targets(model, y, what);
}

// Keeps float32 semantics for logged means, as Keras's metric state is float32.
inline double as_float32(double v) { return static_cast<double>(static_cast<float>(v)); }

}  // namespace kiln::detail
