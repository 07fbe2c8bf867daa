// What every optimizer's constructor and config reader share: argument checks that say what was
// received, and the common arguments copied between an options struct and OptimizerCommon.
#pragma once

#include <string>

#include "io/json_fields.hpp"
#include "kiln/optimizers.hpp"

namespace kiln::optimizers::detail {

inline void require(bool ok, const std::string& what, double value, const std::string& expected) {
  if (!ok) throw ValueError(what + " must be " + expected + ", received " + std::to_string(value));
}

// A constant rate must be positive; a schedule checks its own arguments.
inline void require_rate(const LearningRate& rate, const std::string& optimizer) {
  if (!rate.schedule()) require(rate.at(0) > 0, optimizer + " learning_rate", rate.at(0), "positive");
}

// beta_1 and beta_2 of the Adam family: each in [0, 1).
inline void require_betas(double beta_1, double beta_2, const std::string& optimizer) {
  require(beta_1 >= 0 && beta_1 < 1, optimizer + " beta_1", beta_1, "in [0, 1)");
  require(beta_2 >= 0 && beta_2 < 1, optimizer + " beta_2", beta_2, "in [0, 1)");
}

// `to` with the common arguments (weight decay, clipping, the moving average) of `from`: another
// optimizer's options or OptimizerCommon.
template <typename To, typename From>
To with_common(To to, const From& from) {
  to.weight_decay = from.weight_decay;
  to.clipnorm = from.clipnorm;
  to.clipvalue = from.clipvalue;
  to.global_clipnorm = from.global_clipnorm;
  to.use_ema = from.use_ema;
  to.ema_momentum = from.ema_momentum;
  to.ema_overwrite_frequency = from.ema_overwrite_frequency;
  return to;
}

template <typename Options>
OptimizerCommon common_of(const Options& o) {
  return with_common(OptimizerCommon{}, o);
}

}  // namespace kiln::optimizers::detail
