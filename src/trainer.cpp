// Trainer::fit, Keras's training loop: epochs of shuffled batches, validation, callbacks, and a
// run continued from a backup (FitState). Evaluate and predict are in trainer_inference.cpp.
#include "kiln/trainer.hpp"

#include <algorithm>
#include <chrono>

#include "kiln/data/dataset.hpp"
#include "kiln/model.hpp"
#include "kiln/random.hpp"
#include "distribute/replicas.hpp"
#include "engine.hpp"
#include "trainer_checks.hpp"
#include "trainer_feed.hpp"

namespace kiln {

using detail::as_float32;
using detail::check_data;

namespace {

std::vector<Inputs> slices(std::span<const Inputs> x, int64_t begin, int64_t end) {
  std::vector<Inputs> out;
  for (const auto& in : x) out.push_back(in.slice(begin, end));
  return out;
}

void check_fit_options(const Model& model, const FitOptions& options) {
  if (!model.compiled()) throw ValueError("fit: compile the model before calling fit");
  if (options.epochs < 0 || options.batch_size < 1)
    throw ValueError("fit: expected epochs >= 0 and batch_size >= 1, received epochs=" +
                     std::to_string(options.epochs) + ", batch_size=" + std::to_string(options.batch_size));
}

}  // namespace

History Trainer::fit(std::span<const Inputs> x_all, const Labels& y_all, const FitOptions& options) {
  check_fit_options(model_, options);
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
  // class_weight weighs the training samples only: Keras applies it after the split.
  if (!options.class_weight.empty()) weights = detail::class_weight_to_sample_weights(options.class_weight, y);
  detail::ArrayFeed feed(model_, std::move(x), y, std::move(weights), options.batch_size, options.shuffle);
  return run_fit(feed, val, options);
}

History Trainer::fit(const data::Dataset& x, const FitOptions& options) {
  check_fit_options(model_, options);
  const FitOptions defaults;
  if (options.batch_size != defaults.batch_size || options.validation_split != 0 || !options.class_weight.empty() ||
      !options.sample_weight.empty() || !options.shuffle)
    throw ValueError("fit: with a dataset, batch_size, validation_split, class_weight, sample_weight and shuffle "
                     "are the dataset's to set (batch, shuffle, weights in its samples), as in Keras; received one of them");
  detail::DatasetFeed feed(model_, x, "fit");
  return run_fit(feed, options.validation_data, options);
}

History Trainer::run_fit(detail::Feed& feed, const std::optional<ValidationData>& val, const FitOptions& options) {
  if (val && !val->dataset) {
    check_data(model_, val->x, val->y, "fit validation_data");
    detail::check_sample_weight(val->sample_weight, val->x[0].rows(), "fit validation_data");
  }
  if (val && val->dataset) detail::check_batched(*val->dataset, "fit validation_data");
  detail::Replicas replicas(options.distribute.get());
  feed.set_share(replicas.rank(), replicas.size());
  const int64_t steps = feed.steps();
  FitState state{.seed = options.seed ? *options.seed : utils::global_rng().next()};
  model_.set_seed(state.seed);
  model_.plan(std::max<int64_t>(1, feed.batch_rows()), true);
  std::optional<metrics::MetricList> metrics;

  ProgbarLogger progbar(*options.out);
  std::vector<Callback*> all{&progbar};
  all.insert(all.end(), options.callbacks.begin(), options.callbacks.end());
  const std::vector<Callback*> callbacks = replicas.callbacks(all);
  // The other processes' callbacks print nothing: their messages are the chief's.
  std::ostream quiet(nullptr);
  for (auto* cb : callbacks) {
    cb->set_model(&model_);
    cb->set_params({options.epochs, steps, replicas.chief() ? options.verbose : 0,
                    replicas.chief() ? options.out : &quiet});
    cb->set_fit_state(&state);
  }

  Logs logs;
  model_.stop_training = false;
  for (auto* cb : callbacks) cb->on_train_begin(logs);
  // A callback may have set the state to an earlier run's (BackupAndRestore): continue it, with
  // its epochs' order of batches as they would have had. Under a strategy every process
  // continues the chief's.
  replicas.sync_from_chief(model_, state);
  model_.set_seed(replicas.stream_seed(state.seed));
  model_.set_random_step(state.random_step);
  detail::Engine& engine = *model_.engine_;
  using Clock = std::chrono::steady_clock;
  for (int epoch = state.epoch; epoch < options.epochs && !model_.stop_training; ++epoch) {
    logs = Logs();
    for (auto* cb : callbacks) cb->on_epoch_begin(epoch, logs);
    const auto epoch_start = Clock::now();
    Clock::duration waited{};
    feed.start_epoch(epoch, state.seed);
    if (metrics)
      for (auto& m : *metrics) m->reset();
    double loss_sum = 0.0;
    int64_t seen = 0;
    for (int64_t step = 0; step < steps; ++step) {
      for (auto* cb : callbacks) cb->on_train_batch_begin(step, logs);
      std::span<const Tensor* const> batch;
      Targets yb;
      const auto asked = Clock::now();
      const int64_t b = feed.next(batch, yb);
      waited += Clock::now() - asked;
      if (feed.global_rows() > 0) {
        if (!metrics) metrics.emplace(model_.make_metrics(yb.sparse()));
        const detail::StepShare* share = replicas.step_share(feed.global_rows());
        if (b > 0) {
          const Tensor& out = model_.forward(batch, true);
          // b times the batch's loss as Keras reports it: the weighted mean loss plus the penalties.
          loss_sum += model_.loss()->forward(out, yb) + static_cast<double>(b) * model_.regularization_loss();
          seen += b;
          metrics->update(out, yb);
          engine.train_step(*model_.loss(), *model_.optimizer(), yb, share);
        } else {
          engine.shared_step_without_rows(*model_.optimizer(), *share);
        }
        replicas.log_results(logs, loss_sum, seen, *metrics);
      }
      for (auto* cb : callbacks) cb->on_train_batch_end(step, logs);
      // As Keras's fit: a batch hook that stops training ends the epoch here; validation and
      // on_epoch_end still run.
      model_.stop_training = replicas.any(model_.stop_training);
      if (model_.stop_training) break;
    }
    state.from_pipeline = feed.is_pipeline();
    state.data_wait_seconds = std::chrono::duration<double>(waited).count();
    state.train_seconds = std::chrono::duration<double>(Clock::now() - epoch_start).count();
    replicas.average_moving_statistics(model_);
    if (val) {
      Logs val_logs = val->dataset ? run_test(*val->dataset, nullptr, callbacks, replicas)
                                   : run_test(val->x, val->y, val->sample_weight, options.batch_size, nullptr,
                                              callbacks, replicas);
      for (const auto& [k, v] : val_logs.items()) logs.set("val_" + k, v);
    }
    state.history.epoch.push_back(epoch);
    for (const auto& [k, v] : logs.items()) state.history.history[k].push_back(v);
    state.epoch = epoch + 1;
    state.random_step = model_.random_step();
    for (auto* cb : callbacks) cb->on_epoch_end(epoch, logs);
    model_.stop_training = replicas.any(model_.stop_training);
  }
  if (options.epochs > 0) model_.finalize_variable_values();
  for (auto* cb : callbacks) cb->on_train_end(logs);
  for (auto* cb : callbacks) cb->set_fit_state(nullptr);
  return std::move(state.history);
}

ValidationData::ValidationData(const data::Dataset& d) : dataset(std::make_shared<data::Dataset>(d)) {}

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
History Model::fit(const data::Dataset& x, const FitOptions& options) { return Trainer(*this).fit(x, options); }
Logs Model::evaluate(const data::Dataset& x, const EvaluateOptions& options) {
  return Trainer(*this).evaluate(x, options);
}
Tensor Model::predict(const data::Dataset& x, const PredictOptions& options) {
  if (outputs_.size() != 1)
    throw ValueError("predict: the model has " + std::to_string(outputs_.size()) +
                     " outputs; predict_outputs returns them all");
  return std::move(Trainer(*this).predict(x, options)[0]);
}
Tensor Model::predict(const Inputs& x, const PredictOptions& options) {
  if (outputs_.size() != 1)
    throw ValueError("predict: the model has " + std::to_string(outputs_.size()) +
                     " outputs; predict_outputs returns them all");
  return std::move(Trainer(*this).predict({&x, 1}, options)[0]);
}

}  // namespace kiln

