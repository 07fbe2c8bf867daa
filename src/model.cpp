// Model and Sequential: from symbolic tensors to the engine, and the engine's entry points.
#include "kiln/model.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "engine.hpp"
#include "graph_walk.hpp"
#include "kiln/layers/core.hpp"

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

// "dense", then "dense_1", "dense_2", ...: the first of these not in `taken`.
std::string free_name(const std::string& base, const std::set<std::string>& taken, int first_suffix) {
  if (first_suffix == 0 && !taken.count(base)) return base;
  for (int i = std::max(first_suffix, 1);; ++i)
    if (!taken.count(base + "_" + std::to_string(i))) return base + "_" + std::to_string(i);
}

bool is_input_node(const Node& node) { return node.inputs.empty() && node.layer->class_name() == "InputLayer"; }

}  // namespace

Model::Model(SymbolicTensor input, SymbolicTensor output, std::string name)
    : Model(std::vector<SymbolicTensor>{std::move(input)}, std::vector<SymbolicTensor>{std::move(output)},
            std::move(name)) {}

Model::Model(std::vector<SymbolicTensor> inputs, std::vector<SymbolicTensor> outputs, std::string name)
    : name_(std::move(name)), inputs_(std::move(inputs)), outputs_(std::move(outputs)) {
  if (inputs_.empty() || outputs_.empty())
    throw ValueError("Model '" + name_ + "' needs at least one input and one output");
  for (const auto& x : inputs_)
    if (!is_input_node(*x.node()))
      throw ValueError("Model '" + name_ + "': inputs must come from Input(), received the output of " +
                       x.layer()->class_name() + " '" + x.layer()->name() + "'");
  build_graph();
}

Model::Model(std::string name, bool sequential) : name_(std::move(name)), sequential_(sequential) {}

Model::~Model() = default;
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;

void Model::build_graph() {
  std::vector<const Node*> order = detail::nodes_in_running_order(outputs_);
  std::map<const Node*, int> tensor_of;
  for (size_t k = 0; k < inputs_.size(); ++k) {
    if (tensor_of.count(inputs_[k].node().get()))
      throw ValueError("Model '" + name_ + "': the same Input is given twice as an input");
    tensor_of[inputs_[k].node().get()] = static_cast<int>(k);
  }
  std::vector<const Node*> running;
  for (const Node* node : order) {
    if (!is_input_node(*node)) {
      running.push_back(node);
      continue;
    }
    if (!tensor_of.count(node)) {
      std::string known;
      for (const auto& x : inputs_) known += (known.empty() ? "" : ", ") + x.layer()->name();
      throw ValueError("Model '" + name_ + "': graph disconnected: the outputs need the input '" +
                       node->layer->name() + "' (InputLayer), which is not among the model's inputs [" + known + "]");
    }
  }
  // Names: unnamed layers are named by class in running order, inputs first ("input_1", ...).
  std::vector<LayerRef> distinct;
  auto remember = [&](const LayerRef& layer) {
    if (std::none_of(distinct.begin(), distinct.end(), [&](const LayerRef& l) { return l.get() == layer.get(); }))
      distinct.push_back(layer);
  };
  for (const auto& x : inputs_) remember(x.layer());
  for (const Node* node : running) remember(node->layer);
  std::set<std::string> taken;
  for (const auto& layer : distinct)
    if (!layer->name().empty()) taken.insert(layer->name());
  for (const auto& layer : distinct)
    if (layer->name().empty()) {
      bool input = layer->class_name() == "InputLayer";
      layer->set_name(free_name(input ? "input" : snake_case(layer->class_name()), taken, input ? 1 : 0));
      taken.insert(layer->name());
    }
  std::map<std::string, int> uses;
  for (const auto& layer : distinct)
    if (++uses[layer->name()] == 2)
      throw ValueError("Model '" + name_ + "': the name \"" + layer->name() +
                       "\" is used by two layers; all layer names should be unique");
  std::vector<detail::EngineNode> nodes;
  std::vector<Shape> input_shapes;
  for (const auto& x : inputs_) input_shapes.push_back(x.shape());
  for (const Node* node : running) {
    detail::EngineNode n{node->layer, {}};
    for (const auto& x : node->inputs) n.inputs.push_back(tensor_of.at(x.node().get()));
    tensor_of[node] = static_cast<int>(inputs_.size() + nodes.size());
    nodes.push_back(std::move(n));
  }
  std::vector<int> outputs;
  for (const auto& y : outputs_) outputs.push_back(tensor_of.at(y.node().get()));
  auto engine = std::make_unique<detail::Engine>(std::move(input_shapes), std::move(nodes), std::move(outputs));
  engine->allocate_weights(token_);
  engine_ = std::move(engine);
  layer_list_.clear();
  if (!sequential_)
    for (const auto& x : inputs_) layer_list_.push_back(x.layer());
  for (const auto& layer : engine_->layers()) layer_list_.push_back(layer);
  if (optimizer_) optimizer_->build(engine_->weights().size());
}

void Model::clear_graph() {
  inputs_.clear();
  outputs_.clear();
  engine_.reset();
}

void Model::require_built(const char* what) const {
  if (!engine_)
    throw ValueError(class_name() + " '" + name_ + "' must be built before " + what +
                     ": give the first layer an input shape (Flatten({28, 28})) or call build()");
}

LayerRef Model::get_layer(const std::string& name) const {
  std::string known;
  for (const auto& layer : layer_list_) {
    if (layer->name() == name) return layer;
    known += (known.empty() ? "" : ", ") + layer->name();
  }
  throw ValueError("No such layer: '" + name + "'. Existing layers are: [" + known + "]");
}

const Shape& Model::only_shape(const std::vector<SymbolicTensor>& tensors, const char* what) const {
  require_built(what == std::string("input") ? "input_shape" : "output_shape");
  if (tensors.size() != 1)
    throw ValueError(class_name() + " '" + name_ + "' has " + std::to_string(tensors.size()) + " " + what +
                     "s; see " + what + "s() for their shapes");
  return tensors[0].shape();
}

const Shape& Model::input_shape() const { return only_shape(inputs_, "input"); }
const Shape& Model::output_shape() const { return only_shape(outputs_, "output"); }

int64_t Model::count_params() const {
  int64_t n = 0;
  for (const auto& layer : layer_list_) n += layer->count_params();
  return n;
}

int64_t Model::count_trainable_params() const {
  int64_t n = 0;
  for (const auto& layer : layer_list_) n += layer->count_trainable_params();
  return n;
}

void Model::compile(CompileOptions options) {
  loss_ = options.loss.get();
  optimizer_ = options.optimizer.get();
  for (const auto& m : options.metrics) metrics::get(m);  // throws on unknown names
  for (const auto& m : options.weighted_metrics) metrics::get(m);
  metric_names_ = options.metrics;
  weighted_metric_names_ = options.weighted_metrics;
  if (engine_) optimizer_->build(engine_->weights().size());
}

metrics::MetricList Model::make_metrics(bool sparse_targets) const {
  return metrics::MetricList(metric_names_, weighted_metric_names_, {.sparse = sparse_targets, .output = output_shape()});
}

double Model::regularization_loss() const {
  require_built("regularization_loss");
  return engine_->regularization_loss();
}

std::vector<Tensor> Model::get_weights() const {
  std::vector<Tensor> out;
  for (const auto& layer : layer_list_)
    for (const auto& p : layer->params()) out.push_back(p.value.clone());
  return out;
}

void Model::set_weights(const std::vector<Tensor>& weights) {
  require_built("set_weights");
  size_t i = 0;
  for (const auto& layer : layer_list_)
    for (auto& p : layer->params()) {
      if (i >= weights.size() || weights[i].shape() != p.shape)
        throw ValueError("set_weights: weight " + std::to_string(i) + " (" + layer->name() + "/" + p.name +
                         ") needs shape " + shape_str(p.shape) + ", received " +
                         (i < weights.size() ? shape_str(weights[i].shape()) : std::string("no tensor")));
      std::copy_n(weights[i].data(), weights[i].size(), p.value.data());
      ++i;
    }
  if (i != weights.size())
    throw ValueError("set_weights: the model has " + std::to_string(i) + " weights, received " +
                     std::to_string(weights.size()));
}

Tensor& Model::weights() {
  require_built("weights");
  return engine_->weights();
}

const Tensor& Model::weights() const {
  require_built("weights");
  return engine_->weights();
}

int64_t Model::planned_bytes(int64_t batch, bool training) const {
  require_built("planning");
  return engine_->arena_bytes(batch, training, false);
}

int64_t Model::unplanned_bytes(int64_t batch, bool training) const {
  require_built("planning");
  return engine_->arena_bytes(batch, training, true);
}

void Model::plan(int64_t batch, bool training) {
  require_built("running");
  engine_->plan(batch, training);
}

const Tensor& Model::forward(std::span<const Tensor* const> x, bool training) {
  require_built("running");
  if (x.size() != inputs_.size())
    throw ValueError(class_name() + " '" + name_ + "' has " + std::to_string(inputs_.size()) +
                     " inputs, received " + std::to_string(x.size()) + " tensors");
  const int64_t b = x[0]->rank() ? x[0]->dim(0) : 0;
  for (size_t k = 0; k < x.size(); ++k) {
    const Shape& want = inputs_[k].shape();
    const Shape& got = x[k]->shape();
    if (got.empty() || got[0] != b || !input_fits(want, std::span(got).subspan(1))) {
      Shape expected = want;
      expected.insert(expected.begin(), b);
      throw ShapeError(class_name() + " '" + name_ + "' expects " +
                       (x.size() > 1 ? "input " + std::to_string(k) + " " : std::string("inputs ")) + "shaped " +
                       shape_str(expected) + " (batch first), received " + shape_str(got));
    }
  }
  engine_->plan(b, training);
  engine_->forward(x, training);
  return *engine_->output_values()[0];
}

Tensor Model::layer_output(const Tensor& x, const std::string& layer) {
  require_built("running");
  const auto& nodes = engine_->nodes();
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].layer->name() != layer) continue;
    if (x.rank() > 0) engine_->plan(x.dim(0), false, true);
    forward(x, false);
    return engine_->value(engine_->num_inputs() + static_cast<int>(i)).clone();
  }
  std::string known;
  for (const auto& node : nodes) known += (known.empty() ? "" : ", ") + node.layer->name();
  throw ValueError(class_name() + " '" + name_ + "' has no layer named '" + layer + "'; its layers: " + known);
}

const Tensor& Model::forward(const Tensor& x, bool training) {
  const Tensor* one[] = {&x};
  return forward(one, training);
}

const std::vector<const Tensor*>& Model::output_tensors() const {
  require_built("running");
  return engine_->output_values();
}

void Model::backward(const Targets& targets) {
  if (!compiled()) throw ValueError(class_name() + " '" + name_ + "' must be compiled before training");
  engine_->backward(*loss_, targets, nullptr);
}

void Model::apply_gradients() {
  if (!compiled()) throw ValueError(class_name() + " '" + name_ + "' must be compiled before training");
  engine_->apply_gradients(*optimizer_);
}

void Model::train_step(const Targets& targets) {
  if (!compiled()) throw ValueError(class_name() + " '" + name_ + "' must be compiled before training");
  engine_->train_step(*loss_, *optimizer_, targets);
}

void Model::finalize_variable_values() {
  if (!compiled()) throw ValueError(class_name() + " '" + name_ + "' must be compiled before training");
  engine_->finalize(*optimizer_);
}

void Model::swap_ema_weights() {
  if (!compiled()) throw ValueError(class_name() + " '" + name_ + "' must be compiled before training");
  engine_->swap_average(*optimizer_);
}

void Model::set_seed(uint64_t seed) {
  require_built("running");
  engine_->set_seed(seed);
}

uint64_t Model::random_step() const {
  require_built("running");
  return engine_->step();
}

void Model::set_random_step(uint64_t step) {
  require_built("running");
  engine_->set_step(step);
}

Sequential::Sequential(std::vector<LayerRef> layers, std::string name) : Model(std::move(name), true) {
  for (auto& layer : layers) append(std::move(layer));
  if (!stack_.empty() && !stack_[0]->declared_input_shape().empty()) build(stack_[0]->declared_input_shape());
}

Sequential::Sequential(Model&& model) : Model(std::move(model)) {
  if (!sequential_)
    throw ValueError("the model '" + name_ + "' is functional, not a Sequential: hold it in a Model");
  stack_ = layer_list_;
}

void Sequential::append(LayerRef layer) {
  if (layer->name().empty()) {
    std::string base = snake_case(layer->class_name());
    int count = 0;
    for (const auto& l : stack_)
      if (l->class_name() == layer->class_name()) ++count;
    layer->set_name(count == 0 ? base : base + "_" + std::to_string(count));
  }
  for (const auto& l : stack_)
    if (l->name() == layer->name())
      throw ValueError("Sequential '" + name_ + "': two layers named '" + layer->name() + "'");
  stack_.push_back(std::move(layer));
  layer_list_ = stack_;
}

void Sequential::add(LayerRef layer) {
  append(std::move(layer));
  if (!stack_[0]->declared_input_shape().empty())
    build(stack_[0]->declared_input_shape());
  else if (built())
    build(input_shape());
}

void Sequential::pop() {
  if (stack_.empty()) throw ValueError("Sequential '" + name_ + "' has no layers to pop");
  Shape input = built() ? input_shape() : Shape{};
  detail::Engine::release(*stack_.back());
  stack_.pop_back();
  layer_list_ = stack_;
  if (stack_.empty())
    clear_graph();
  else if (!input.empty())
    build(input);
}

void Sequential::build(const Shape& input_shape) {
  if (stack_.empty()) throw ValueError("Sequential '" + name_ + "' has no layers to build");
  SymbolicTensor x = Input(input_shape, stack_[0]->name() + "_input");
  inputs_ = {x};
  for (const auto& layer : stack_) x = layer(x);
  outputs_ = {x};
  build_graph();
}

bool input_fits(std::span<const int64_t> want, std::span<const int64_t> got) {
  if (std::ranges::equal(got, want)) return true;
  return !want.empty() && want.back() == 1 && std::ranges::equal(got, want.first(want.size() - 1));
}

std::optional<ImageInput> image_input(const Shape& want) {
  if (want.size() == 2) return ImageInput{want[0], want[1], 1};
  if (want.size() == 3 && (want[2] == 1 || want[2] == 3 || want[2] == 4)) return ImageInput{want[0], want[1], want[2]};
  return std::nullopt;
}

}  // namespace kiln
