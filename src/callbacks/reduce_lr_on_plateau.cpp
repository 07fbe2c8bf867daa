// ReduceLROnPlateau: multiplies the optimizer's learning rate by `factor` when the monitored
// value has stalled for `patience` epochs, with a cooldown and a floor (Keras 3's
// keras/src/callbacks/reduce_lr_on_plateau.py).
#include <algorithm>

#include "callbacks/print.hpp"
#include "kiln/error.hpp"
#include "kiln/model.hpp"
#include "kiln/training_callbacks.hpp"

namespace kiln {

ReduceLROnPlateau::ReduceLROnPlateau(ReduceLROnPlateauOptions options)
    : options_(std::move(options)),
      monitor_("ReduceLROnPlateau", options_.monitor, options_.mode, options_.min_delta) {
  if (options_.factor >= 1.0)
    throw ValueError("ReduceLROnPlateau does not support a factor >= 1.0. Received factor=" +
                     detail::python_float(options_.factor));
  if (!(options_.factor > 0.0))
    throw ValueError(
        "ReduceLROnPlateau needs a factor in (0, 1): a learning rate must stay positive. Received "
        "factor=" +
        detail::python_float(options_.factor));
  if (options_.patience < 0 || options_.cooldown < 0)
    throw ValueError("ReduceLROnPlateau: patience and cooldown must be >= 0, received patience=" +
                     std::to_string(options_.patience) +
                     ", cooldown=" + std::to_string(options_.cooldown));
  if (!(options_.min_lr >= 0.0))
    throw ValueError("ReduceLROnPlateau: min_lr must be >= 0, received " +
                     detail::python_float(options_.min_lr));
}

void ReduceLROnPlateau::on_train_begin(const Logs&) {
  best_.reset();
  cooldown_counter_ = 0;
  wait_ = 0;
}

void ReduceLROnPlateau::on_epoch_end(int epoch, const Logs& logs) {
  const double current = monitor_.value(logs);  // a missing monitor stops fit here
  if (cooldown_counter_ > 0) {
    --cooldown_counter_;
    wait_ = 0;
  }
  if (monitor_.is_improvement(current, best_)) {
    best_ = current;
    wait_ = 0;
    return;
  }
  if (cooldown_counter_ > 0 || ++wait_ < options_.patience) return;
  Optimizer& optimizer = *model()->optimizer();
  const double old_lr = optimizer.learning_rate();
  if (!(old_lr > options_.min_lr)) return;  // at the floor: nothing to reduce, no cooldown
  const double new_lr = std::max(old_lr * options_.factor, options_.min_lr);
  optimizer.set_learning_rate(new_lr);
  if (options_.verbose > 0)
    detail::message(params_, false)
        << "Epoch " << epoch + 1 << ": ReduceLROnPlateau reducing learning rate to "
        << detail::python_float(new_lr) << ".\n"
        << std::flush;
  cooldown_counter_ = options_.cooldown;
  wait_ = 0;
}

}  // namespace kiln
