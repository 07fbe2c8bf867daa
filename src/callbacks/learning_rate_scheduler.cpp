// LearningRateScheduler: at each epoch's start, sets the optimizer's learning rate to what a
// user function of (epoch, current rate) returns (Keras's LearningRateScheduler).
#include <cmath>

#include "callbacks/print.hpp"
#include "kiln/error.hpp"
#include "kiln/model.hpp"
#include "kiln/training_callbacks.hpp"

namespace kiln {

LearningRateScheduler::LearningRateScheduler(std::function<double(int, double)> schedule,
                                             int verbose)
    : schedule_(std::move(schedule)), verbose_(verbose) {
  if (!schedule_) throw ValueError("LearningRateScheduler: the schedule function is empty");
}

void LearningRateScheduler::on_epoch_begin(int epoch, const Logs&) {
  Optimizer& optimizer = *model()->optimizer();
  const double lr = schedule_(epoch, optimizer.learning_rate());
  if (!(lr > 0) || !std::isfinite(lr))
    throw ValueError("LearningRateScheduler: the schedule returned " + detail::python_float(lr) +
                     " for epoch " + std::to_string(epoch) +
                     "; expected a positive, finite learning rate");
  optimizer.set_learning_rate(lr);
  if (verbose_ > 0)
    detail::message(params_, false)
        << "Epoch " << epoch + 1 << ": LearningRateScheduler setting learning rate to "
        << detail::python_float(lr) << ".\n"
        << std::flush;
}

}  // namespace kiln
