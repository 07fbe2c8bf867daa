#include "kiln/model.hpp"

#include <algorithm>
#include <cctype>

#include "kernels/cpu/gemm.hpp"
#include "kiln/initializers.hpp"
#include "kiln/random.hpp"

namespace kiln {

namespace {

// Keras's layer naming: "Dense" -> "dense", "MaxPooling2D" -> "max_pooling2d".
std::string snake_case(const std::string& name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool upper = std::isupper(static_cast<unsigned char>(c));
    bool next_lower = i + 1 < name.size() && std::islower(static_cast<unsigned char>(name[i + 1]));
    bool prev_lower = i > 0 && std::islower(static_cast<unsigned char>(name[i - 1]));
    if (upper && i > 0 && (next_lower || prev_lower)) out += '_';
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

constexpr int64_t kAlign = 16;  // floats: each weight starts on a 64-byte boundary
int64_t aligned(int64_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

}  // namespace

Sequential::Sequential(std::vector<LayerRef> layers, std::string name) : name_(std::move(name)) {
  for (auto& layer : layers) append(std::move(layer));
  if (!layers_.empty() && !layers_[0]->declared_input_shape().empty())
    build(layers_[0]->declared_input_shape());
}

void Sequential::add(LayerRef layer) {
  append(std::move(layer));
  if (!layers_[0]->declared_input_shape().empty()) build(layers_[0]->declared_input_shape());
  else if (built_) build(input_shape_);
}

void Sequential::append(LayerRef layer) {  if (layer->name().empty()) {
    std::string base = snake_case(layer->class_name());
    int count = 0;
    for (const auto& l : layers_)
      if (l->class_name() == layer->class_name()) ++count;
    layer->set_name(count == 0 ? base : base + "_" + std::to_string(count));
  }
  for (const auto& l : layers_)
    if (l->name() == layer->name())
      throw ValueError("Sequential '" + name_ + "': two layers named '" + layer->name() + "'");
  layers_.push_back(std::move(layer));
}

void Sequential::build(const Shape& input_shape) {
  if (layers_.empty()) throw ValueError("Sequential '" + name_ + "' has no layers to build");
  input_shape_ = input_shape;
  Shape shape = input_shape;
  std::vector<Shape> param_shapes;
  for (auto& layer : layers_) {
    shape = layer->build_once(shape);
    for (const auto& p : layer->params()) param_shapes.push_back(p.shape);
  }
  int64_t total = 0;
  param_count_ = 0;
  for (const auto& s : param_shapes) {
    total += aligned(shape_size(s));
    param_count_ += shape_size(s);
  }
  weights_ = Tensor({std::max<int64_t>(total, 1)});
  grads_ = Tensor({std::max<int64_t>(total, 1)});
  int64_t offset = 0;
  for (auto& layer : layers_)
    for (auto& p : layer->params()) {
      p.value = Tensor::view(p.shape, weights_.storage(), weights_.data() + offset);
      p.grad = Tensor::view(p.shape, grads_.storage(), grads_.data() + offset);
      initializers::fill(p.initializer.name, p.value, utils::global_rng());
      offset += aligned(shape_size(p.shape));
    }
  built_ = true;
  grads_clear_ = true;
  planned_batch_ = 0;
  if (optimizer_) optimizer_->build(weights_.size());
}

const Shape& Sequential::output_shape() const {
  require_built("output_shape");
  return layers_.back()->output_shape();
}

void Sequential::require_built(const char* what) const {
  if (!built_)
    throw ValueError("Sequential '" + name_ + "' must be built before " + what +
                     ": give the first layer an input shape (Flatten({28, 28})) or call build()");
}

void Sequential::compile(CompileOptions options) {
  loss_ = options.loss.get();
  optimizer_ = options.optimizer.get();
  for (const auto& m : options.metrics) metrics::get(m);  // throws on unknown names
  metric_names_ = options.metrics;
  if (built_) optimizer_->build(weights_.size());
}

std::vector<std::unique_ptr<Metric>> Sequential::make_metrics() const {
  std::vector<std::unique_ptr<Metric>> out;
  for (const auto& m : metric_names_) out.push_back(metrics::get(m));
  return out;
}

void Sequential::plan(int64_t batch, bool training) {
  require_built("running");
  if (batch <= planned_batch_ && (planned_training_ || !training)) return;
  batch = std::max(batch, planned_batch_);
  training = training || planned_training_;
  // Arena memory for every layer's output and output gradient, except a reshape's output, which is
  // its input's memory, and the gradient of its input, which is its output gradient's.
  auto owns_output = [&](size_t i) { return !layers_[i]->is_reshape(); };
  auto owns_grad = [&](size_t i) {
    return i + 1 == layers_.size() || !layers_[i + 1]->is_reshape();
  };
  int64_t total = 0;
  for (size_t i = 0; i < layers_.size(); ++i)
    total += aligned(batch * shape_size(layers_[i]->output_shape())) *
             ((owns_output(i) ? 1 : 0) + (training && owns_grad(i) ? 1 : 0));
  activations_ = Tensor({total});
  outputs_.clear();
  output_grads_.clear();
  int64_t offset = 0;
  auto carve = [&](const Shape& per_sample, bool owned) {
    Shape s = per_sample;
    s.insert(s.begin(), batch);
    if (!owned) return Tensor::view(s, nullptr, nullptr);  // aimed by forward / below
    Tensor t = Tensor::view(s, activations_.storage(), activations_.data() + offset);
    offset += aligned(shape_size(s));
    return t;
  };
  for (size_t i = 0; i < layers_.size(); ++i)
    outputs_.push_back(carve(layers_[i]->output_shape(), owns_output(i)));
  if (training) {
    for (size_t i = 0; i < layers_.size(); ++i)
      output_grads_.push_back(carve(layers_[i]->output_shape(), owns_grad(i)));
    for (size_t i = layers_.size(); i-- > 1;)
      if (!owns_grad(i - 1)) output_grads_[i - 1].alias(output_grads_[i]);
  }
  planned_batch_ = view_batch_ = batch;
  planned_training_ = training;
  cpu::reserve_scratch();
}

void Sequential::set_view_batch(int64_t b) {
  if (b == view_batch_) return;
  for (auto& t : outputs_) t = t.with_rows(b);
  for (auto& t : output_grads_) t = t.with_rows(b);
  view_batch_ = b;
}

const Tensor& Sequential::forward(const Tensor& x, bool training) {
  int64_t b = x.dim(0);
  if (x.rank() != input_shape_.size() + 1 ||
      !std::equal(input_shape_.begin(), input_shape_.end(), x.shape().begin() + 1)) {
    Shape expected = input_shape_;
    expected.insert(expected.begin(), b);
    throw ShapeError("Sequential '" + name_ + "' expects inputs shaped " + shape_str(expected) +
                     " (batch first), received " + shape_str(x.shape()));
  }
  plan(b, training);
  set_view_batch(b);
  Context ctx{.training = training};
  for (size_t i = 0; i < layers_.size(); ++i) {
    const Tensor& in = i == 0 ? x : outputs_[i - 1];
    if (layers_[i]->is_reshape())
      outputs_[i].alias(in);
    else
      layers_[i]->forward(ctx, in, outputs_[i]);
  }
  return outputs_.back();
}

void Sequential::backward(const Tensor& x, const int32_t* labels) {
  backward_pass(x, labels, 0.0f);
  grads_clear_ = false;
}

void Sequential::apply_gradients() {
  optimizer_->update(weights_.data(), grads_.data(), weights_.size());
  grads_clear_ = true;
}

void Sequential::train_step(const Tensor& x, const int32_t* labels) {
  float lr = optimizer_ ? optimizer_->plain_sgd_learning_rate() : 0.0f;
  auto applies_sgd = [](const LayerRef& l) { return l->applies_sgd_in_backward(); };
  bool fused = lr > 0.0f && grads_clear_ && std::all_of(layers_.begin(), layers_.end(), applies_sgd);
  if (!fused) {
    backward(x, labels);
    apply_gradients();
    return;
  }
  backward_pass(x, labels, lr);
  optimizer_->count_step();
}

void Sequential::backward_pass(const Tensor& x, const int32_t* labels, float sgd_learning_rate) {
  if (!compiled()) throw ValueError("Sequential '" + name_ + "' must be compiled before training");
  if (output_grads_.empty()) throw ValueError("Sequential::backward needs a training forward pass");
  const Tensor& out = outputs_.back();
  bool fuse = loss_->can_fuse_softmax() && layers_.back()->output_activation() == "softmax";
  loss_->backward(out, labels, static_cast<float>(view_batch_), output_grads_.back(), fuse);
  // Gradients flow back only as far as the first layer with weights: nothing before it needs
  // one (for the seed model, the first Dense's input gradient behind Flatten would be a whole
  // 32x300 . 300x784 product per step, a quarter of the step's work, thrown away).
  auto has_weights = [](const LayerRef& l) { return !l->params().empty(); };
  size_t first = std::find_if(layers_.begin(), layers_.end(), has_weights) - layers_.begin();
  for (size_t i = layers_.size(); i-- > first;) {
    if (layers_[i]->is_reshape()) continue;  // its input gradient is its output gradient
    Context ctx{.training = true,
                .grad_is_preactivation = fuse && i + 1 == layers_.size(),
                .accumulate = !grads_clear_,
                .sgd_learning_rate = sgd_learning_rate};
    layers_[i]->backward(ctx, i == 0 ? x : outputs_[i - 1], outputs_[i], output_grads_[i],
                         i == first ? nullptr : &output_grads_[i - 1]);
  }
}

}  // namespace kiln
