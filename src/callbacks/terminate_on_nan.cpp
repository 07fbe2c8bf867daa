// TerminateOnNaN: stops training right after a batch whose loss is NaN or infinite (Keras's
// TerminateOnNaN), or throws with raise_error.
#include <cmath>

#include "callbacks/print.hpp"
#include "kiln/error.hpp"
#include "kiln/model.hpp"
#include "kiln/training_callbacks.hpp"

namespace kiln {

void TerminateOnNaN::on_train_batch_end(int64_t batch, const Logs& logs) {
  if (!logs.contains("loss")) return;
  const double loss = logs.at("loss");
  if (std::isfinite(loss)) return;
  if (raise_error_)
    throw Error("NaN or Inf loss encountered at batch " + std::to_string(batch) + ". Loss value: " +
                detail::python_float(loss) + ". Terminating training immediately.");
  detail::message(params_, true) << "Batch " << batch << ": Invalid loss, terminating training\n"
                                 << std::flush;
  model()->stop_training = true;
}

}  // namespace kiln
