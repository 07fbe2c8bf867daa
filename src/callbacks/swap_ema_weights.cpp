#include "kiln/callbacks.hpp"
#include "kiln/error.hpp"
#include "kiln/model.hpp"

namespace kiln {

namespace {
void require_ema(const Model* model) {
  const auto optimizer = model ? model->optimizer() : nullptr;
  if (!optimizer || !optimizer->common().use_ema)
    throw ValueError("SwapEMAWeights needs a model compiled with an optimizer that has use_ema = true, received " +
                     (optimizer ? optimizer->class_name() + " with use_ema = false" : std::string("no optimizer")));
}
}  // namespace

void SwapEMAWeights::on_train_begin(const Logs&) { require_ema(model()); }

void SwapEMAWeights::on_test_begin(const Logs&) {
  require_ema(model());
  model()->swap_ema_weights();
}

void SwapEMAWeights::on_test_end(const Logs&) { model()->swap_ema_weights(); }

}  // namespace kiln
