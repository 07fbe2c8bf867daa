// LambdaCallback: a callback made of user functions (Keras's LambdaCallback); hooks without a
// function do nothing.
#include "kiln/training_callbacks.hpp"

namespace kiln {

void LambdaCallback::on_epoch_begin(int epoch, const Logs& logs) {
  if (f_.on_epoch_begin) f_.on_epoch_begin(epoch, logs);
}
void LambdaCallback::on_epoch_end(int epoch, const Logs& logs) {
  if (f_.on_epoch_end) f_.on_epoch_end(epoch, logs);
}
void LambdaCallback::on_train_begin(const Logs& logs) {
  if (f_.on_train_begin) f_.on_train_begin(logs);
}
void LambdaCallback::on_train_end(const Logs& logs) {
  if (f_.on_train_end) f_.on_train_end(logs);
}
void LambdaCallback::on_train_batch_begin(int64_t batch, const Logs& logs) {
  if (f_.on_train_batch_begin) f_.on_train_batch_begin(batch, logs);
}
void LambdaCallback::on_train_batch_end(int64_t batch, const Logs& logs) {
  if (f_.on_train_batch_end) f_.on_train_batch_end(batch, logs);
}

}  // namespace kiln
