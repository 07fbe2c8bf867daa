#include "kiln/trainer.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "kiln/model.hpp"
#include "kiln/random.hpp"
#include "engine.hpp"
#include "targets.hpp"

namespace kiln {

namespace {

// The inputs fit the model's: one per model input, each of the model's shape, all with the same
// number of samples.
void check_inputs(const Model& model, std::span<const Inputs> x, const char* what) {
  const auto& inputs = model.inputs();
  if (x.size() != inputs.size())
    throw ValueError(std::string(what) + ": the model has " + std::to_string(inputs.size()) +
                     " inputs, received " + std::to_string(x.size()) + " arrays");
  for (size_t k = 0; k < x.size(); ++k) {
    if (x[k].rank() == 0) throw ShapeError(std::string(what) + ": expected a batch of inputs, received a scalar");
    if (x[k].rows() != x[0].rows())
      throw ShapeError(std::string(what) + ": input " + std::to_string(k) + " has " + std::to_string(x[k].rows()) +
                       " samples, input 0 has " + std::to_string(x[0].rows()));
    const Shape& want = inputs[k].shape();
    if (!input_fits(want, std::span(x[k].shape()).subspan(1))) {
      Shape expected = want;
      expected.insert(expected.begin(), x[k].rows());
      throw ShapeError(model.class_name() + " '" + model.name() + "' expects inputs shaped " + shape_str(expected) +
                       " (batch first), received " + shape_str(x[k].shape()));
    }
  }
}

void check_data(const Model& model, std::span<const Inputs> x, const Labels& y, const char* what) {
  if (model.outputs().size() != 1)
    throw ValueError(std::string(what) + ": the model has " + std::to_string(model.outputs().size()) +
                     " outputs; fit and evaluate take models with one output (one loss)");
  check_inputs(model, x, what);
  if (x[0].rows() != y.size())
    throw ShapeError(std::string(what) + ": x has " + std::to_string(x[0].rows()) + " samples (shape " +
                     shape_str(x[0].shape()) + ") but y has " + std::to_string(y.size()) + " labels");
  detail::check_targets(model, y, what);
}

// Keeps float32 semantics for logged means, as Keras's metric state is float32.
double as_float32(double v) { return static_cast<double>(static_cast<float>(v)); }

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

template <typename Fn>
void Trainer::for_each_batch(std::span<const Inputs> x, int64_t batch_size, Fn&& fn) {
  const int64_t n = x[0].rows();
  struct Batch {
    Tensor buffer, view;  // the conversion buffer (bytes only), and what the model reads
  };
  std::vector<Batch> batches(x.size());
  std::vector<const Tensor*> views(x.size());
  for (size_t k = 0; k < x.size(); ++k) {
    views[k] = &batches[k].view;
    if (x[k].is_float()) continue;
    Shape shape = x[k].shape();
    shape[0] = std::min(batch_size, n);
    batches[k].buffer = Tensor(shape);
  }
  const double scale = model_.preprocessing.rescale;
  for (int64_t begin = 0; begin < n; begin += batch_size) {
    int64_t b = std::min(batch_size, n - begin);
    for (size_t k = 0; k < x.size(); ++k) {
      Batch& batch = batches[k];
      if (x[k].is_float()) {
        batch.view = x[k].floats().slice(begin, begin + b);
      } else {
        batch.view = batch.buffer.with_rows(b);
        x[k].copy_rows(begin, b, batch.view.data(), scale);
      }
    }
    fn(std::span<const Tensor* const>(views), begin, b);
  }
}

template <typename Fn>
void Trainer::infer_in_slices(std::span<const Tensor* const> batch, int64_t n, Fn&& fn) {
  const int64_t rows = model_.engine_->inference_rows(), slices = (n + rows - 1) / rows;
  if (slices <= 1) {
    model_.forward(batch, false);
    return fn(int64_t{0}, n);
  }
  slices_.resize(batch.size());
  slice_views_.resize(batch.size());
  for (int64_t s = 0; s < slices; ++s) {
    const int64_t begin = n * s / slices, end = n * (s + 1) / slices;
    for (size_t k = 0; k < batch.size(); ++k) {
      slices_[k] = batch[k]->slice(begin, end);
      slice_views_[k] = &slices_[k];
    }
    model_.forward(slice_views_, false);
    fn(begin, end - begin);
  }
}

namespace {

// An image batch (N, H, W[, C]) mirrored along W into `out`, which has its shape.
void flip_width(const Tensor& in, Tensor& out) {
  const int64_t n = in.dim(0), h = in.dim(1), w = in.dim(2), c = in.size() / (n * h * w);
  for (int64_t row = 0; row < n * h; ++row) {
    const float* src = in.data() + row * w * c;
    float* dst = out.data() + row * w * c;
    for (int64_t x = 0; x < w; ++x) std::copy_n(src + (w - 1 - x) * c, c, dst + x * c);
  }
}

void check_tta(const std::string& tta, std::span<const Tensor* const> batch, const char* what) {
  if (tta.empty()) return;
  if (tta != "flip")
    throw ValueError(std::string(what) + ": tta must be \"\" (none) or \"flip\", received \"" + tta + "\"");
  for (const Tensor* t : batch)
    if (t->rank() < 3)
      throw ValueError(std::string(what) + ": tta \"flip\" mirrors images along their width, so it needs inputs "
                       "shaped (N, H, W[, C]); received shape " + shape_str(t->shape()));
}

}  // namespace

template <typename Fn>
void Trainer::infer(std::span<const Tensor* const> batch, int64_t n, const std::string& tta, Fn&& fn) {
  if (tta.empty()) {
    infer_in_slices(batch, n, [&](int64_t first, int64_t rows) { fn(first, rows, model_.output_tensors()); });
    return;
  }
  const size_t outputs = model_.outputs().size();
  std::vector<Tensor> mean(outputs), flipped;
  std::vector<const Tensor*> mean_views, flipped_views;
  for (size_t o = 0; o < outputs; ++o) {
    Shape shape = model_.outputs()[o].shape();
    shape.insert(shape.begin(), n);
    mean[o] = Tensor(shape);
    mean_views.push_back(&mean[o]);
  }
  for (const Tensor* t : batch) {
    flipped.emplace_back(t->shape());
    flip_width(*t, flipped.back());
  }
  for (const auto& t : flipped) flipped_views.push_back(&t);
  for (const auto& views : {std::span<const Tensor* const>(batch), std::span<const Tensor* const>(flipped_views)})
    infer_in_slices(views, n, [&](int64_t first, int64_t rows) {
      for (size_t o = 0; o < outputs; ++o) {
        const int64_t row = mean[o].row_size();
        const float* got = model_.output_tensors()[o]->data();
        float* sum = mean[o].data() + first * row;
        for (int64_t i = 0; i < rows * row; ++i) sum[i] += 0.5f * got[i];
      }
    });
  fn(0, n, mean_views);
}

Logs Trainer::run_test(std::span<const Inputs> x, const Labels& y, std::span<const float> sample_weight,
                       int64_t batch_size, Progbar* bar, const std::vector<Callback*>& callbacks,
                       const std::string& tta) {
  auto metrics = model_.make_metrics(y.sparse());
  // Keras's test loss adds the regularizers' penalties too.
  const double regularization = model_.regularization_loss();
  double loss_sum = 0.0;
  Logs logs;
  for (auto* cb : callbacks) cb->on_test_begin(logs);
  for_each_batch(x, batch_size, [&](std::span<const Tensor* const> batch, int64_t begin, int64_t b) {
    const int64_t step = begin / batch_size;
    for (auto* cb : callbacks) cb->on_test_batch_begin(step, logs);
    if (begin == 0) check_tta(tta, batch, "evaluate");
    infer(batch, b, tta, [&](int64_t first, int64_t rows, std::span<const Tensor* const> outputs) {
      const Tensor& out = *outputs[0];
      const Targets targets = y.at(begin + first, sample_weight);
      loss_sum += model_.loss()->forward(out, targets) + static_cast<double>(rows) * regularization;
      metrics.update(out, targets);
    });
    logs.set("loss", as_float32(loss_sum / static_cast<double>(begin + b)));
    for (auto& m : metrics) logs.set(m->name(), m->result());
    if (bar) bar->update(step + 1, logs, begin + b == x[0].rows());
    for (auto* cb : callbacks) cb->on_test_batch_end(step, logs);
  });
  for (auto* cb : callbacks) cb->on_test_end(logs);
  return logs;
}

Logs Trainer::evaluate(std::span<const Inputs> x, const Labels& y, const EvaluateOptions& options) {
  if (!model_.compiled()) throw ValueError("evaluate: compile the model before calling evaluate");
  if (options.batch_size < 1)
    throw ValueError("evaluate: batch_size must be at least 1, received " +
                     std::to_string(options.batch_size));
  check_data(model_, x, y, "evaluate");
  detail::check_sample_weight(options.sample_weight, x[0].rows(), "evaluate");
  int64_t steps = (x[0].rows() + options.batch_size - 1) / options.batch_size;
  for (auto* cb : options.callbacks) {
    cb->set_model(&model_);
    cb->set_params({1, steps, options.verbose, options.out});
  }
  Progbar bar(steps, options.verbose, *options.out,
              options.out == &std::cout && stdout_is_terminal());
  return run_test(x, y, options.sample_weight, options.batch_size, options.verbose ? &bar : nullptr,
                  options.callbacks, options.tta);
}

std::vector<Tensor> Trainer::predict(std::span<const Inputs> x, const PredictOptions& options) {
  if (options.batch_size < 1)
    throw ValueError("predict: batch_size must be at least 1, received " +
                     std::to_string(options.batch_size));
  check_inputs(model_, x, "predict");
  std::vector<Tensor> results;
  for (const auto& output : model_.outputs()) {
    Shape shape = output.shape();
    shape.insert(shape.begin(), x[0].rows());
    results.emplace_back(shape);
  }
  const int64_t steps = (x[0].rows() + options.batch_size - 1) / options.batch_size;
  for (auto* cb : options.callbacks) {
    cb->set_model(&model_);
    cb->set_params({1, steps, 0});
  }
  Logs logs;
  for (auto* cb : options.callbacks) cb->on_predict_begin(logs);
  for_each_batch(x, options.batch_size, [&](std::span<const Tensor* const> batch, int64_t begin, int64_t b) {
    const int64_t step = begin / options.batch_size;
    for (auto* cb : options.callbacks) cb->on_predict_batch_begin(step, logs);
    if (begin == 0) check_tta(options.tta, batch, "predict");
    infer(batch, b, options.tta, [&](int64_t first, int64_t rows, std::span<const Tensor* const> outputs) {
      for (size_t o = 0; o < results.size(); ++o) {
        int64_t row = results[o].row_size();
        std::memcpy(results[o].data() + (begin + first) * row, outputs[o]->data(), sizeof(float) * rows * row);
      }
    });
    for (auto* cb : options.callbacks) cb->on_predict_batch_end(step, logs);
  });
  for (auto* cb : options.callbacks) cb->on_predict_end(logs);
  return results;
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
