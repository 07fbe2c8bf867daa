// Trainer::fit, Keras's training loop: epochs of shuffled batches, validation, callbacks, and a
// run continued from a backup (FitState). Evaluate and predict are in trainer_inference.cpp.
#include "kiln/trainer.hpp"

#include <algorithm>
#include <numeric>

#include "kiln/model.hpp"
#include "kiln/random.hpp"
#include "engine.hpp"
#include "targets.hpp"
#include "trainer_checks.hpp"

namespace kiln {

using detail::as_float32;
using detail::check_data;

namespace {

std::vector<Inputs> slices(std::span<const Inputs> x, int64_t begin, int64_t end) {
  std::vector<Inputs> out;
  for (const auto& in : x) out.push_back(in.slice(begin, end));
  return out;
}

}  // namespace

History Trainer::fit(std::span<const Inputs> x_all, const Labels& y_all, const FitOptions& options) {
  if (!model_.compiled()) throw ValueError("fit: compile the model before calling fit");
  if (options.epochs < 0 || options.batch_size < 1)
    throw ValueError("fit: expected epochs >= 0 and batch_size >= 1, received epochs=" +
                     std::to_string(options.epochs) +
                     ", batch_size=" + std::to_string(options.batch_size));
  check_data(model_, x_all, y_all, "fit");
  detail::check_sample_weight(options.sample_weight, x_all[0].rows(), "fit");
  if (!options.class_weight.empty() && !options.sample_weight.empty())
    throw ValueError("fit: class_weight and sample_weight cannot be used at the same time (as in Keras)");

  // Hold out the last validation_split of the data and of sample_weight, as Keras does, unless
  // data is given.
  std::vector<Inputs> x(x_all.begin(), x_all.end());
  Labels y = y_all;
  std::vector<float> weights = options.sample_weight;
  std::optional<ValidationData> val = options.validation_data;
  if (!val && options.validation_split > 0) {
    if (options.validation_split >= 1)
      throw ValueError("fit: validation_split must be in [0, 1), received " +
                       std::to_string(options.validation_split));
    const int64_t rows = x_all[0].rows();
    int64_t keep = static_cast<int64_t>(rows * (1.0 - options.validation_split));
    x = slices(x_all, 0, keep);
    val = ValidationData{slices(x_all, keep, rows), y_all.slice(keep, rows),
                         weights.empty() ? std::vector<float>() : std::vector<float>(weights.begin() + keep, weights.end())};
    y = y_all.slice(0, keep);
    if (!weights.empty()) weights.resize(keep);
  }
  if (val) {
    check_data(model_, val->x, val->y, "fit validation_data");
    detail::check_sample_weight(val->sample_weight, val->x[0].rows(), "fit validation_data");
  }
  // class_weight weighs the training samples only: Keras applies it after the split.
  if (!options.class_weight.empty()) weights = detail::class_weight_to_sample_weights(options.class_weight, y);

  const int64_t n = x[0].rows(), bs = options.batch_size;
  const double scale = model_.preprocessing.rescale;
  const int64_t steps = (n + bs - 1) / bs;
  FitState state{.seed = options.seed ? *options.seed : utils::global_rng().next()};
  model_.set_seed(state.seed);
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);

  // One batch buffer per input, as a full batch and as the shorter last one: no allocation
  // inside the loop.
  std::vector<Tensor> full, last;
  std::vector<const Tensor*> full_ptrs, last_ptrs;
  for (const auto& in : x) {
    Shape batch_shape = in.shape();
    batch_shape[0] = std::min(bs, n);
    full.emplace_back(batch_shape);
    last.push_back(full.back().with_rows(n - (steps - 1) * bs));
  }
  for (size_t k = 0; k < x.size(); ++k) {
    full_ptrs.push_back(&full[k]);
    last_ptrs.push_back(&last[k]);
  }
  detail::TargetBatch targets(y, weights, std::min(bs, n));
  model_.plan(std::min(bs, n), true);
  auto metrics = model_.make_metrics(y.sparse());

  ProgbarLogger progbar(*options.out);
  std::vector<Callback*> callbacks{&progbar};
  callbacks.insert(callbacks.end(), options.callbacks.begin(), options.callbacks.end());
  for (auto* cb : callbacks) {
    cb->set_model(&model_);
    cb->set_params({options.epochs, steps, options.verbose, options.out});
    cb->set_fit_state(&state);
  }

  Logs logs;
  model_.stop_training = false;
  for (auto* cb : callbacks) cb->on_train_begin(logs);
  // A callback may have set the state to an earlier run's (BackupAndRestore): continue it, with
  // its epochs' shuffles replayed so that the order is the one it would have had.
  Rng rng(state.seed);
  model_.set_seed(state.seed);
  model_.set_random_step(state.random_step);
  for (int epoch = 0; epoch < state.epoch && options.shuffle; ++epoch) rng.shuffle(std::span<int64_t>(order));
  for (int epoch = state.epoch; epoch < options.epochs && !model_.stop_training; ++epoch) {
    logs = Logs();
    for (auto* cb : callbacks) cb->on_epoch_begin(epoch, logs);
    if (options.shuffle) rng.shuffle(std::span<int64_t>(order));
    for (auto& m : metrics) m->reset();
    double loss_sum = 0.0;
    int64_t seen = 0;
    for (int64_t step = 0; step < steps; ++step) {
      int64_t begin = step * bs, b = std::min(bs, n - begin);
      for (auto* cb : callbacks) cb->on_train_batch_begin(step, logs);
      const auto& batch = b == bs ? full_ptrs : last_ptrs;
      for (size_t k = 0; k < x.size(); ++k) {
        x[k].gather(order.data() + begin, b, (b == bs ? full[k] : last[k]).data(), scale);
        if (step + 1 < steps) x[k].prefetch(order.data() + begin + bs, std::min(bs, n - begin - bs));
      }
      const Targets& yb = targets.gather(order.data() + begin, b);
      const Tensor& out = model_.forward(batch, true);
      // b times the batch's loss as Keras reports it: the weighted mean loss plus the penalties.
      loss_sum += model_.loss()->forward(out, yb) + static_cast<double>(b) * model_.regularization_loss();
      seen += b;
      metrics.update(out, yb);
      model_.train_step(yb);
      logs.set("loss", as_float32(loss_sum / seen));
      for (auto& m : metrics) logs.set(m->name(), m->result());
      for (auto* cb : callbacks) cb->on_train_batch_end(step, logs);
      // As Keras's fit: a batch hook that stops training ends the epoch here; validation and
      // on_epoch_end still run.
      if (model_.stop_training) break;
    }
    if (val) {
      Logs val_logs = run_test(val->x, val->y, val->sample_weight, bs, nullptr, callbacks);
      for (const auto& [k, v] : val_logs.items()) logs.set("val_" + k, v);
    }
    state.history.epoch.push_back(epoch);
    for (const auto& [k, v] : logs.items()) state.history.history[k].push_back(v);
    state.epoch = epoch + 1;
    state.random_step = model_.random_step();
    for (auto* cb : callbacks) cb->on_epoch_end(epoch, logs);
  }
  if (options.epochs > 0) model_.finalize_variable_values();
  for (auto* cb : callbacks) cb->on_train_end(logs);
  for (auto* cb : callbacks) cb->set_fit_state(nullptr);
  return std::move(state.history);
}

History Model::fit(const std::vector<Inputs>& x, const Labels& y, const FitOptions& options) {
  return Trainer(*this).fit(x, y, options);
}
Logs Model::evaluate(const std::vector<Inputs>& x, const Labels& y, const EvaluateOptions& options) {
  return Trainer(*this).evaluate(x, y, options);
}
std::vector<Tensor> Model::predict_outputs(const std::vector<Inputs>& x, const PredictOptions& options) {
  return Trainer(*this).predict(x, options);
}
Tensor Model::predict(const std::vector<Inputs>& x, const PredictOptions& options) {
  if (outputs_.size() != 1)
    throw ValueError("predict: the model has " + std::to_string(outputs_.size()) +
                     " outputs; predict_outputs returns them all");
  return std::move(Trainer(*this).predict(x, options)[0]);
}
History Model::fit(const Inputs& x, const Labels& y, const FitOptions& options) {
  return Trainer(*this).fit({&x, 1}, y, options);
}
Logs Model::evaluate(const Inputs& x, const Labels& y, const EvaluateOptions& options) {
  return Trainer(*this).evaluate({&x, 1}, y, options);
}
Tensor Model::predict(const Inputs& x, const PredictOptions& options) {
  if (outputs_.size() != 1)
    throw ValueError("predict: the model has " + std::to_string(outputs_.size()) +
                     " outputs; predict_outputs returns them all");
  return std::move(Trainer(*this).predict({&x, 1}, options)[0]);
}

}  // namespace kiln
