// EarlyStopping: ends fit when the monitored value stops improving, optionally restoring the best
// epoch's weights (Keras 3's keras/src/callbacks/early_stopping.py, step for step).
#include "callbacks/print.hpp"
#include "kiln/error.hpp"
#include "kiln/model.hpp"
#include "kiln/training_callbacks.hpp"

namespace kiln {

EarlyStopping::EarlyStopping(EarlyStoppingOptions options)
    : options_(std::move(options)),
      monitor_("EarlyStopping", options_.monitor, options_.mode, options_.min_delta) {
  if (options_.patience < 0)
    throw ValueError("EarlyStopping: patience must be >= 0, received " +
                     std::to_string(options_.patience));
  if (options_.start_from_epoch < 0)
    throw ValueError("EarlyStopping: start_from_epoch must be >= 0, received " +
                     std::to_string(options_.start_from_epoch));
}

void EarlyStopping::on_train_begin(const Logs&) {
  // A callback may serve several fits: each starts afresh.
  wait_ = 0;
  stopped_epoch_ = 0;
  best_.reset();
  best_weights_.reset();
  best_epoch_ = 0;
}

void EarlyStopping::on_epoch_end(int epoch, const Logs& logs) {
  const double current = monitor_.value(logs);  // a missing monitor stops fit here
  if (epoch < options_.start_from_epoch) return;
  // Until an epoch improves, the first watched epoch's weights are the best.
  if (options_.restore_best_weights && !best_weights_) {
    best_weights_ = model()->get_weights();
    best_epoch_ = epoch;
  }
  ++wait_;
  if (monitor_.is_improvement(current, best_)) {
    best_ = current;
    best_epoch_ = epoch;
    if (options_.restore_best_weights) best_weights_ = model()->get_weights();
    // The wait restarts only when the value beats both the best so far and the baseline.
    if (!options_.baseline || monitor_.is_improvement(current, *options_.baseline)) wait_ = 0;
    return;
  }
  if (wait_ >= options_.patience && epoch > 0) {
    stopped_epoch_ = epoch;
    model()->stop_training = true;
  }
}

void EarlyStopping::on_train_end(const Logs&) {
  if (stopped_epoch_ > 0 && options_.verbose > 0)
    detail::message(params_, false) << "Epoch " << stopped_epoch_ + 1 << ": early stopping\n"
                                    << std::flush;
  if (options_.restore_best_weights && best_weights_) {
    if (options_.verbose > 0)
      detail::message(params_, false)
          << "Restoring model weights from the end of the best epoch: " << best_epoch_ + 1 << ".\n"
          << std::flush;
    model()->set_weights(*best_weights_);
  }
}

}  // namespace kiln
