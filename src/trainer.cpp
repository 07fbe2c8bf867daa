#include "kiln/trainer.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "kiln/model.hpp"
#include "kiln/random.hpp"

namespace kiln {

namespace {

template <typename T>
std::vector<int32_t> to_int(const BasicTensor<T>& y) {
  if (y.rank() != 1)
    throw ShapeError("labels must be one integer per sample (shape [N]), received shape " +
                     shape_str(y.shape()));
  return std::vector<int32_t>(y.data(), y.data() + y.size());
}

void check_data(const Sequential& model, const Inputs& x, const Labels& y, const char* what) {
  if (x.rank() == 0 || x.rows() != y.size())
    throw ShapeError(std::string(what) + ": x has " + std::to_string(x.rows()) +
                     " samples (shape " + shape_str(x.shape()) + ") but y has " +
                     std::to_string(y.size()) + " labels");
  int64_t classes = shape_size(model.output_shape());
  for (int64_t i = 0; i < y.size(); ++i)
    if (y[i] < 0 || y[i] >= classes)
      throw ValueError(std::string(what) + ": label " + std::to_string(y[i]) + " at index " +
                       std::to_string(i) + " is out of range for a model with " +
                       std::to_string(classes) + " outputs");
}

// Keeps float32 semantics for logged means, as Keras's metric state is float32.
double as_float32(double v) { return static_cast<double>(static_cast<float>(v)); }

}  // namespace

Labels::Labels(const ByteTensor& y) : values_(to_int(y)) {}
Labels::Labels(const LabelTensor& y) : values_(to_int(y)) {}

History Trainer::fit(const Inputs& x_all, const Labels& y_all, const FitOptions& options) {
  if (!model_.compiled()) throw ValueError("fit: compile the model before calling fit");
  if (options.epochs < 0 || options.batch_size < 1)
    throw ValueError("fit: expected epochs >= 0 and batch_size >= 1, received epochs=" +
                     std::to_string(options.epochs) +
                     ", batch_size=" + std::to_string(options.batch_size));
  check_data(model_, x_all, y_all, "fit");

  // Hold out the last validation_split of the data, as Keras does, unless data is given.
  Inputs x = x_all;
  std::vector<int32_t> y(y_all.data(), y_all.data() + y_all.size());
  std::optional<ValidationData> val = options.validation_data;
  if (!val && options.validation_split > 0) {
    if (options.validation_split >= 1)
      throw ValueError("fit: validation_split must be in [0, 1), received " +
                       std::to_string(options.validation_split));
    int64_t keep = static_cast<int64_t>(x_all.rows() * (1.0 - options.validation_split));
    x = x_all.slice(0, keep);
    val = ValidationData{x_all.slice(keep, x_all.rows()),
                         std::vector<int32_t>(y.begin() + keep, y.end())};
    y.resize(keep);
  }
  if (val) check_data(model_, val->x, val->y, "fit validation_data");

  int64_t n = x.rows(), bs = options.batch_size;
  const double scale = model_.preprocessing.rescale;
  int64_t steps = (n + bs - 1) / bs;
  Rng rng(options.seed ? *options.seed : utils::global_rng().next());
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);

  Shape batch_shape = x.shape();
  batch_shape[0] = std::min(bs, n);
  Tensor xb(batch_shape);
  // The batch buffer as a full batch and as the shorter last one: no allocation inside the loop.
  Tensor last_xb = xb.with_rows(n - (steps - 1) * bs);
  std::vector<int32_t> yb(static_cast<size_t>(batch_shape[0]));
  model_.plan(batch_shape[0], true);
  auto metrics = model_.make_metrics();

  ProgbarLogger progbar(*options.out);
  std::vector<Callback*> callbacks{&progbar};
  callbacks.insert(callbacks.end(), options.callbacks.begin(), options.callbacks.end());
  for (auto* cb : callbacks) cb->set_params({options.epochs, steps, options.verbose});

  History history;
  Logs logs;
  for (auto* cb : callbacks) cb->on_train_begin(logs);
  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    logs = Logs();
    for (auto* cb : callbacks) cb->on_epoch_begin(epoch, logs);
    if (options.shuffle) rng.shuffle(std::span<int64_t>(order));
    for (auto& m : metrics) m->reset();
    double loss_sum = 0.0;
    int64_t seen = 0;
    for (int64_t step = 0; step < steps; ++step) {
      int64_t begin = step * bs, b = std::min(bs, n - begin);
      for (auto* cb : callbacks) cb->on_train_batch_begin(step, logs);
      Tensor& batch = b == bs ? xb : last_xb;
      x.gather(order.data() + begin, b, batch.data(), scale);
      if (step + 1 < steps) x.prefetch(order.data() + begin + bs, std::min(bs, n - begin - bs));
      for (int64_t i = 0; i < b; ++i) yb[i] = y[order[begin + i]];
      const Tensor& out = model_.forward(batch, true);
      loss_sum += model_.loss()->forward(out, yb.data());
      seen += b;
      for (auto& m : metrics) m->update(out, yb.data());
      model_.train_step(batch, yb.data());
      logs.set("loss", as_float32(loss_sum / seen));
      for (auto& m : metrics) logs.set(m->name(), m->result());
      for (auto* cb : callbacks) cb->on_train_batch_end(step, logs);
    }
    if (val) {
      Logs val_logs = run_test(val->x, val->y, bs, nullptr);
      for (const auto& [k, v] : val_logs.items()) logs.set("val_" + k, v);
    }
    for (auto* cb : callbacks) cb->on_epoch_end(epoch, logs);
    history.epoch.push_back(epoch);
    for (const auto& [k, v] : logs.items()) history.history[k].push_back(v);
  }
  for (auto* cb : callbacks) cb->on_train_end(logs);
  return history;
}

template <typename Fn>
void Trainer::for_each_batch(const Inputs& x, int64_t batch_size, Fn&& fn) {
  const int64_t n = x.rows();
  Tensor buffer;
  if (!x.is_float()) {
    Shape shape = x.shape();
    shape[0] = std::min(batch_size, n);
    buffer = Tensor(shape);
  }
  const double scale = model_.preprocessing.rescale;
  for (int64_t begin = 0; begin < n; begin += batch_size) {
    int64_t b = std::min(batch_size, n - begin);
    if (x.is_float()) {
      fn(x.floats().slice(begin, begin + b), begin, b);
    } else {
      Tensor batch = buffer.with_rows(b);
      x.copy_rows(begin, b, batch.data(), scale);
      fn(batch, begin, b);
    }
  }
}

Logs Trainer::run_test(const Inputs& x, const Labels& y, int64_t batch_size, Progbar* bar) {
  auto metrics = model_.make_metrics();
  double loss_sum = 0.0;
  Logs logs;
  for_each_batch(x, batch_size, [&](const Tensor& batch, int64_t begin, int64_t b) {
    const Tensor& out = model_.forward(batch, false);
    loss_sum += model_.loss()->forward(out, y.data() + begin);
    for (auto& m : metrics) m->update(out, y.data() + begin);
    logs.set("loss", as_float32(loss_sum / static_cast<double>(begin + b)));
    for (auto& m : metrics) logs.set(m->name(), m->result());
    if (bar) bar->update(begin / batch_size + 1, logs, begin + b == x.rows());
  });
  return logs;
}

Logs Trainer::evaluate(const Inputs& x, const Labels& y, const EvaluateOptions& options) {
  if (!model_.compiled()) throw ValueError("evaluate: compile the model before calling evaluate");
  if (options.batch_size < 1)
    throw ValueError("evaluate: batch_size must be at least 1, received " +
                     std::to_string(options.batch_size));
  check_data(model_, x, y, "evaluate");
  int64_t steps = (x.rows() + options.batch_size - 1) / options.batch_size;
  Progbar bar(steps, options.verbose, *options.out,
              options.out == &std::cout && stdout_is_terminal());
  return run_test(x, y, options.batch_size, options.verbose ? &bar : nullptr);
}

Tensor Trainer::predict(const Inputs& x, const PredictOptions& options) {
  if (options.batch_size < 1)
    throw ValueError("predict: batch_size must be at least 1, received " +
                     std::to_string(options.batch_size));
  if (x.rank() == 0) throw ShapeError("predict: expected a batch of inputs, received a scalar");
  Shape shape = model_.output_shape();
  shape.insert(shape.begin(), x.rows());
  Tensor result(shape);
  int64_t row = result.row_size();
  for_each_batch(x, options.batch_size, [&](const Tensor& batch, int64_t begin, int64_t b) {
    const Tensor& out = model_.forward(batch, false);
    std::memcpy(result.data() + begin * row, out.data(), sizeof(float) * b * row);
  });
  return result;
}

History Sequential::fit(const Inputs& x, const Labels& y, const FitOptions& options) {
  return Trainer(*this).fit(x, y, options);
}
Logs Sequential::evaluate(const Inputs& x, const Labels& y, const EvaluateOptions& options) {
  return Trainer(*this).evaluate(x, y, options);
}
Tensor Sequential::predict(const Inputs& x, const PredictOptions& options) {
  return Trainer(*this).predict(x, options);
}

}  // namespace kiln
