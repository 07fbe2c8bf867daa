// Trainer::evaluate and Trainer::predict: batches converted as they are drawn, inference in
// cache-sized slices, and test-time augmentation.
#include <algorithm>
#include <cstring>
#include <optional>

#include "kiln/data/dataset.hpp"
#include "kiln/model.hpp"
#include "kiln/trainer.hpp"
#include "distribute/replicas.hpp"
#include "engine.hpp"
#include "targets.hpp"
#include "trainer_checks.hpp"
#include "trainer_feed.hpp"

namespace kiln {

using detail::as_float32;
using detail::check_data;
using detail::check_inputs;

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

template <typename ForEach>
Logs Trainer::test_batches(ForEach&& for_each, Progbar* bar, const std::vector<Callback*>& callbacks,
                           const detail::Replicas& replicas, const std::string& tta) {
  std::optional<metrics::MetricList> metrics;
  // Keras's test loss adds the regularizers' penalties too.
  const double regularization = model_.regularization_loss();
  double loss_sum = 0.0;
  int64_t seen = 0, step = 0;
  bool finished = false;
  Logs logs;
  for (auto* cb : callbacks) cb->on_test_begin(logs);
  for_each([&](std::span<const Tensor* const> batch, int64_t b, const Labels& y, std::span<const float> weights,
               int64_t first_target, bool last) {
    for (auto* cb : callbacks) cb->on_test_batch_begin(step, logs);
    if (seen == 0) check_tta(tta, batch, "evaluate");
    if (!metrics) metrics.emplace(model_.make_metrics(y.sparse()));
    if (b > 0) infer(batch, b, tta, [&](int64_t first, int64_t rows, std::span<const Tensor* const> outputs) {
      const Tensor& out = *outputs[0];
      const Targets targets = y.at(first_target + first, weights);
      loss_sum += model_.loss()->forward(out, targets) + static_cast<double>(rows) * regularization;
      metrics->update(out, targets);
    });
    seen += b;
    if (seen > 0) {
      logs.set("loss", as_float32(loss_sum / static_cast<double>(seen)));
      for (auto& m : *metrics) logs.set(m->name(), m->result());
    }
    // Under a strategy the bar ends with the results over every process's samples.
    if (bar) bar->update(step + 1, logs, last && !replicas.active());
    finished = finished || last;
    for (auto* cb : callbacks) cb->on_test_batch_end(step, logs);
    ++step;
  });
  if (replicas.active()) {
    if (!metrics) metrics.emplace(model_.make_metrics(true));
    replicas.log_results(logs, loss_sum, seen, *metrics);
  }
  // A pipeline whose last batch was left out whole (files skipped) still ends the bar's line.
  if (bar && (!finished || replicas.active())) bar->update(step, logs, true);
  for (auto* cb : callbacks) cb->on_test_end(logs);
  return logs;
}

Logs Trainer::run_test(std::span<const Inputs> x, const Labels& y, std::span<const float> sample_weight,
                       int64_t batch_size, Progbar* bar, const std::vector<Callback*>& callbacks,
                       const detail::Replicas& replicas, const std::string& tta) {
  // This process's contiguous share of the samples (all of them alone).
  const auto share = replicas.share(x[0].rows());
  std::vector<Inputs> mine;
  for (const auto& in : x) mine.push_back(in.slice(share.begin, share.end));
  return test_batches(
      [&](auto&& fn) {
        if (share.rows() == 0) {
          fn(std::span<const Tensor* const>(), int64_t{0}, y, sample_weight, share.begin, true);
          return;
        }
        for_each_batch(mine, batch_size, [&](std::span<const Tensor* const> batch, int64_t begin, int64_t b) {
          fn(batch, b, y, sample_weight, share.begin + begin, share.begin + begin + b == share.end);
        });
      },
      bar, callbacks, replicas, tta);
}

namespace {

// Calls fn(batch, rows, y, weights, first, last) for each non-empty batch of a pipeline's pass,
// checked by check(batch) first: its rows from `first` on, this process's share of it under a
// strategy (all of it alone).
template <typename Check, typename Fn>
void for_each_dataset_batch(const data::Dataset& x, double scale, const detail::Replicas& replicas, Check&& check,
                            Fn&& fn) {
  data::Iterator it = x.iterate(0, {}, scale);
  data::Batch batch;
  std::vector<const Tensor*> ptrs;
  std::vector<Tensor> shares;
  for (int64_t step = 0, steps = x.cardinality(); it.next(batch); ++step) {
    if (batch.size() == 0) continue;
    check(batch);
    detail::batch_views(batch, ptrs);
    const auto share = replicas.share(batch.size());
    if (replicas.active()) {
      shares.clear();
      for (const Tensor* t : ptrs) shares.push_back(t->slice(share.begin, share.end));
      ptrs.clear();
      for (const Tensor& t : shares) ptrs.push_back(&t);
    }
    fn(std::span<const Tensor* const>(ptrs), share.rows(), batch.y,
       std::span<const float>(batch.sample_weight), share.begin, step + 1 == steps);
  }
}

}  // namespace

Logs Trainer::run_test(const data::Dataset& x, Progbar* bar, const std::vector<Callback*>& callbacks,
                       const detail::Replicas& replicas, const std::string& tta) {
  return test_batches(
      [&](auto&& fn) {
        for_each_dataset_batch(
            x, model_.preprocessing.rescale, replicas,
            [&](const data::Batch& batch) {
              if (batch.y.size() == 0)
                throw ValueError("evaluate: the dataset's samples have no targets (a dataset of inputs only)");
              check_data(model_, batch.x, batch.y, "evaluate");
              detail::check_sample_weight(batch.sample_weight, batch.size(), "evaluate");
            },
            fn);
      },
      bar, callbacks, replicas, tta);
}

namespace {

void check_evaluate_options(const Model& model, const EvaluateOptions& options) {
  if (!model.compiled()) throw ValueError("evaluate: compile the model before calling evaluate");
  if (options.batch_size < 1)
    throw ValueError("evaluate: batch_size must be at least 1, received " + std::to_string(options.batch_size));
}

}  // namespace

Logs Trainer::evaluate(std::span<const Inputs> x, const Labels& y, const EvaluateOptions& options) {
  check_evaluate_options(model_, options);
  check_data(model_, x, y, "evaluate");
  detail::check_sample_weight(options.sample_weight, x[0].rows(), "evaluate");
  const detail::Replicas replicas(options.distribute.get());
  const auto share = replicas.share(x[0].rows());
  const int64_t steps = (share.rows() + options.batch_size - 1) / options.batch_size;
  const auto callbacks = replicas.callbacks(options.callbacks);
  for (auto* cb : callbacks) {
    cb->set_model(&model_);
    cb->set_params({1, steps, options.verbose, options.out});
  }
  Progbar bar(steps, options.verbose, *options.out,
              options.out == &std::cout && stdout_is_terminal());
  return run_test(x, y, options.sample_weight, options.batch_size,
                  options.verbose && replicas.chief() ? &bar : nullptr, callbacks, replicas, options.tta);
}

Logs Trainer::evaluate(const data::Dataset& x, const EvaluateOptions& options) {
  check_evaluate_options(model_, options);
  detail::check_batched(x, "evaluate");
  if (!options.sample_weight.empty())
    throw ValueError("evaluate: with a dataset, sample weights come in its samples; received sample_weight");
  const detail::Replicas replicas(options.distribute.get());
  const int64_t steps = x.cardinality();
  const auto callbacks = replicas.callbacks(options.callbacks);
  for (auto* cb : callbacks) {
    cb->set_model(&model_);
    cb->set_params({1, steps, options.verbose, options.out});
  }
  Progbar bar(steps, options.verbose, *options.out, options.out == &std::cout && stdout_is_terminal());
  return run_test(x, options.verbose && replicas.chief() ? &bar : nullptr, callbacks, replicas, options.tta);
}

template <typename ForEach>
std::vector<Tensor> Trainer::predict_batches(ForEach&& for_each, int64_t rows, int64_t steps,
                                             const PredictOptions& options) {
  std::vector<Tensor> results;
  for (const auto& output : model_.outputs()) {
    Shape shape = output.shape();
    shape.insert(shape.begin(), rows);
    results.emplace_back(shape);
  }
  for (auto* cb : options.callbacks) {
    cb->set_model(&model_);
    cb->set_params({1, steps, 0});
  }
  Logs logs;
  int64_t step = 0, done = 0;
  for (auto* cb : options.callbacks) cb->on_predict_begin(logs);
  for_each([&](std::span<const Tensor* const> batch, int64_t b) {
    for (auto* cb : options.callbacks) cb->on_predict_batch_begin(step, logs);
    if (done == 0) check_tta(options.tta, batch, "predict");
    infer(batch, b, options.tta, [&](int64_t first, int64_t n, std::span<const Tensor* const> outputs) {
      for (size_t o = 0; o < results.size(); ++o) {
        int64_t row = results[o].row_size();
        std::memcpy(results[o].data() + (done + first) * row, outputs[o]->data(), sizeof(float) * n * row);
      }
    });
    done += b;
    for (auto* cb : options.callbacks) cb->on_predict_batch_end(step, logs);
    ++step;
  });
  for (auto* cb : options.callbacks) cb->on_predict_end(logs);
  // Samples a pipeline left out (files it skipped) leave rows unused at the end.
  for (auto& r : results) r = r.slice(0, done);
  return results;
}

std::vector<Tensor> Trainer::predict(std::span<const Inputs> x, const PredictOptions& options) {
  if (options.batch_size < 1)
    throw ValueError("predict: batch_size must be at least 1, received " +
                     std::to_string(options.batch_size));
  check_inputs(model_, x, "predict");
  const int64_t steps = (x[0].rows() + options.batch_size - 1) / options.batch_size;
  return predict_batches(
      [&](auto&& fn) {
        for_each_batch(x, options.batch_size,
                       [&](std::span<const Tensor* const> batch, int64_t, int64_t b) { fn(batch, b); });
      },
      x[0].rows(), steps, options);
}

std::vector<Tensor> Trainer::predict(const data::Dataset& x, const PredictOptions& options) {
  detail::check_batched(x, "predict");
  const int64_t steps = x.cardinality(), rows = steps * x.batch_size();
  return predict_batches(
      [&](auto&& fn) {
        for_each_dataset_batch(
            x, model_.preprocessing.rescale, detail::Replicas(nullptr),
            [&](const data::Batch& batch) { check_inputs(model_, batch.x, "predict"); },
            [&](std::span<const Tensor* const> batch, int64_t b, auto&&...) { fn(batch, b); });
      },
      rows, steps, options);
}

}  // namespace kiln
