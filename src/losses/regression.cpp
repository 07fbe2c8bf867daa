// The regression losses: mean squared error, mean absolute error and Huber, each the mean over a
// sample's output values.
#include <cmath>

#include "kernels/cpu/regression_losses.hpp"
#include "losses/loss_common.hpp"

namespace kiln::losses {

double MeanSquaredError::forward(const Tensor& out, const Targets& y) const {
  return cpu::mse_forward(out.data(), rows_of(y, true), y.weights, out.dim(0), out.row_size());
}

void MeanSquaredError::backward(const Tensor& out, const Targets& y, float scale, Tensor& grad,
                                bool) const {
  cpu::mse_backward(grad.data(), out.data(), rows_of(y, true), y.weights, out.dim(0),
                    out.row_size(), scale);
}

nlohmann::json MeanSquaredError::config() const {
  return serialized("MeanSquaredError", name(), nlohmann::json::object());
}

double MeanAbsoluteError::forward(const Tensor& out, const Targets& y) const {
  return cpu::mae_forward(out.data(), rows_of(y, true), y.weights, out.dim(0), out.row_size());
}

void MeanAbsoluteError::backward(const Tensor& out, const Targets& y, float scale, Tensor& grad,
                                 bool) const {
  cpu::mae_backward(grad.data(), out.data(), rows_of(y, true), y.weights, out.dim(0),
                    out.row_size(), scale);
}

nlohmann::json MeanAbsoluteError::config() const {
  return serialized("MeanAbsoluteError", name(), nlohmann::json::object());
}

Huber::Huber(HuberOptions options) : options_(options) {
  if (!(options_.delta > 0.0) || !std::isfinite(options_.delta))
    throw ValueError("Huber: delta must be a positive number, received delta=" +
                     std::to_string(options_.delta));
}

double Huber::forward(const Tensor& out, const Targets& y) const {
  return cpu::huber_forward(out.data(), rows_of(y, true), y.weights, out.dim(0), out.row_size(),
                            static_cast<float>(options_.delta));
}

void Huber::backward(const Tensor& out, const Targets& y, float scale, Tensor& grad, bool) const {
  cpu::huber_backward(grad.data(), out.data(), rows_of(y, true), y.weights, out.dim(0),
                      out.row_size(), static_cast<float>(options_.delta), scale);
}

nlohmann::json Huber::config() const {
  return serialized("Huber", name(), {{"delta", options_.delta}});
}

}  // namespace kiln::losses
