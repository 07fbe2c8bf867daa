// The engine's passes: forward (training and inference), backward from the loss, and the
// optimizer's step over the trainable ranges of the weight arena, fused into backward where exact.
#include <algorithm>

#include "engine.hpp"
#include "distribute/gradient_exchange.hpp"
#include "kiln/regularizers.hpp"

namespace kiln::detail {

namespace {

// Whether a weight of the layer that the optimizer trains has a regularizer.
bool regularized(const Layer& layer) {
  for (const auto& p : layer.params())
    if (p.trainable && p.regularizer) return true;
  return false;
}

}  // namespace

void Engine::set_view_batch(int64_t b) {
  if (b == view_batch_) return;
  for (auto& t : values_) t = t.with_rows(b);
  for (auto& t : grads_of_) t = t.with_rows(b);
  view_batch_ = b;
}

void Engine::refresh_trainable() {
  const int n = static_cast<int>(nodes_.size());
  for (size_t l = 0; l < layers_.size(); ++l) weight_grads_[l] = layers_[l]->count_trainable_params() > 0;
  std::fill(needs_grad_.begin(), needs_grad_.end(), 0);
  fusable_ = true;
  for (int i = 0; i < n; ++i) {
    int out = num_inputs_ + i, l = layer_of_[i];
    bool needs = weight_grads_[l];
    for (int t : nodes_[i].inputs) needs = needs || needs_grad_[t];
    needs_grad_[out] = needs;
    if (weight_grads_[l] && (!layers_[l]->can_fuse_step() || calls_[l] > 1 || regularized(*layers_[l])))
      fusable_ = false;
  }
  if (!input_grads_.empty())
    for (int i = 0; i < n; ++i)
      for (size_t j = 0; j < nodes_[i].inputs.size(); ++j) {
        int t = nodes_[i].inputs[j];
        input_grads_[i][j].tensor = needs_grad_[t] ? &grads_of_[t] : nullptr;
      }
  ranges_.clear();
  for (size_t l = 0; l < layers_.size(); ++l) {
    if (!layers_[l]->trainable) continue;
    for (const auto& p : layers_[l]->params()) {
      if (!p.trainable) continue;
      ranges_.push_back({p.value.data() - weights_.data(), shape_size(p.shape)});
    }
  }
}

void Engine::forward(std::span<const Tensor* const> x, bool training) {
  set_view_batch(x[0]->dim(0));
  for (int k = 0; k < num_inputs_; ++k) values_[k].alias(*x[k]);
  if (training) ++step_;
  const RandomStream step_stream = RandomStream(seed_).fork(step_);
  // Every tensor's own value is kept when asked (keep_all); else, at inference, runs of
  // per-channel maps fold into the product before them.
  const bool fold = !training && !planned_keep_all_;
  for (int i = 0; i < static_cast<int>(nodes_.size()); ++i) {
    Tensor& out = values_[num_inputs_ + i];
    const auto& layer = nodes_[i].layer;
    if (layer->is_reshape()) {
      out.alias(*node_inputs_[i][0]);
      continue;
    }
    if (fold && fold_end_[i] < 0) continue;
    Context ctx{.training = training, .scratch = scratch_[i], .saved = saved_[i], .random = step_stream.fork(i)};
    if (fold && fold_end_[i] > i)
      forward_folded(i, ctx);
    else
      layer->forward(ctx, node_inputs_[i], out);
  }
}

void Engine::backward(const Loss& loss, const Targets& targets, const FusedStep* fused, const StepShare* share) {
  refresh_trainable();
  const int n = static_cast<int>(nodes_.size()), out = outputs_[0], producer = producer_[out];
  const char* activation = loss.fused_activation();
  bool fuse_activation = activation && producer >= 0 && consumers_[out].empty() &&
                         nodes_[producer].layer->output_activation() == activation;
  const float rows = static_cast<float>(share ? share->global_rows : view_batch_);
  loss.backward(values_[out], targets, rows, grads_of_[out], fuse_activation);
  std::fill(seen_.begin(), seen_.end(), 0);
  GradientExchange* exchange = share ? share->exchange : nullptr;
  if (exchange) exchange->begin(grads_.data(), grads_.size());
  const RandomStream step_stream = RandomStream(seed_).fork(step_);
  for (int i = n; i-- > 0;) {
    int t = num_inputs_ + i, l = layer_of_[i];
    if (needs_grad_[t] && !grad_passes_through_[i]) {
      Context ctx{.training = true,
                  .grad_is_preactivation = fuse_activation && i == producer,
                  .accumulate = seen_[l] || !grads_clear_,
                  .weight_grads = static_cast<bool>(weight_grads_[l]),
                  .fused_step = fused,
                  .scratch = backward_scratch_[i],
                  .saved = saved_[i],
                  .random = step_stream.fork(i)};
      seen_[l] = 1;
      nodes_[i].layer->backward(ctx, node_inputs_[i], values_[t], grads_of_[t], input_grads_[i]);
    }
    if (exchange) exchange->ready(final_from_[i]);
  }
  if (fused) return;  // a layer with a regularizer is never fused
  if (exchange) exchange->finish();
  add_penalty_gradients();
  grads_clear_ = false;
}

void Engine::add_penalty_gradients() {
  for (size_t l = 0; l < layers_.size(); ++l) {
    if (!weight_grads_[l]) continue;
    for (auto& p : layers_[l]->params())
      if (p.trainable && p.regularizer) p.regularizer->add_gradient(p.grad.data(), p.value.data(), p.value.size());
  }
}

void Engine::shared_step_without_rows(Optimizer& optimizer, const StepShare& share) {
  refresh_trainable();
  if (grads_clear_) std::fill_n(grads_.data(), grads_.size(), 0.0f);
  share.exchange->begin(grads_.data(), grads_.size());
  share.exchange->finish();
  add_penalty_gradients();
  grads_clear_ = false;
  apply_gradients(optimizer);
}

double Engine::regularization_loss() const {
  double total = 0;
  for (const auto& layer : layers_) {
    if (!layer->trainable) continue;
    for (const auto& p : layer->params())
      if (p.trainable && p.regularizer) total += p.regularizer->value(p.value.data(), p.value.size());
  }
  return total;
}

void Engine::apply_gradients(Optimizer& optimizer) {
  refresh_trainable();
  optimizer.apply(weights_.data(), grads_.data(), ranges_);
  grads_clear_ = true;
}

void Engine::train_step(const Loss& loss, Optimizer& optimizer, const Targets& targets, const StepShare* share) {
  refresh_trainable();
  std::optional<FusedStep> step = optimizer.fused_step();
  if (step && grads_clear_ && fusable_ && !share) {
    backward(loss, targets, &*step);
    optimizer.count_fused_step();
    return;
  }
  backward(loss, targets, nullptr, share);
  apply_gradients(optimizer);
}

void Engine::finalize(const Optimizer& optimizer) {
  refresh_trainable();
  optimizer.finalize_variable_values(weights_.data(), ranges_);
}

void Engine::swap_average(Optimizer& optimizer) {
  refresh_trainable();
  optimizer.swap_variables(weights_.data(), ranges_);
}

}  // namespace kiln::detail
