// The optimizer base: the step's order (clip, decay, update, moving average), Keras's common
// arguments and their config keys. Each optimizer's own rule lives in its own file.
#include "kiln/optimizers.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/cpu/optimizers.hpp"

namespace kiln {

Optimizer::Optimizer(LearningRate learning_rate, OptimizerCommon common)
    : learning_rate_(std::move(learning_rate)), common_(common) {
  if (!(common.weight_decay >= 0))
    throw ValueError("weight_decay must be >= 0, received " + std::to_string(common.weight_decay));
  if (!(common.ema_momentum >= 0 && common.ema_momentum <= 1))
    throw ValueError("ema_momentum must be in [0, 1], received " + std::to_string(common.ema_momentum));
  int clips = 0;
  for (const auto& [name, clip] : {std::pair{"clipnorm", common.clipnorm}, std::pair{"clipvalue", common.clipvalue},
                                   std::pair{"global_clipnorm", common.global_clipnorm}}) {
    if (!clip) continue;
    ++clips;
    if (!(*clip > 0)) throw ValueError(std::string(name) + " must be positive, received " + std::to_string(*clip));
  }
  if (clips > 1) {
    auto text = [](const std::optional<double>& v) { return v ? std::to_string(*v) : std::string("None"); };
    throw ValueError("Only one of clipnorm, clipvalue and global_clipnorm can be set. Received: clipnorm=" +
                     text(common.clipnorm) + ", clipvalue=" + text(common.clipvalue) +
                     ", global_clipnorm=" + text(common.global_clipnorm));
  }
  if (common.ema_overwrite_frequency < 0)
    throw ValueError("ema_overwrite_frequency must be >= 0 (0: never), received " +
                     std::to_string(common.ema_overwrite_frequency));
}

void Optimizer::build(int64_t n) {
  average_ = common_.use_ema ? Tensor({n}) : Tensor();
  const bool clips = common_.clipnorm || common_.clipvalue || common_.global_clipnorm;
  clipped_ = clips ? Tensor({n}) : Tensor();
  iterations_ = 0;
  build_state(n);
}

void Optimizer::apply(float* w, const float* g, std::span<const WeightRange> ranges) {
  const double rate = learning_rate();
  step_learning_rate_ = static_cast<float>(rate);
  ++iterations_;
  g = clip(g, ranges);
  const auto decay = static_cast<float>(common_.weight_decay * rate);
  begin_step();
  for (const auto& r : ranges) {
    if (common_.weight_decay > 0) cpu::decay_weights(w + r.offset, r.size, decay);
    update(w + r.offset, g + r.offset, r.offset, r.size);
  }
  if (common_.use_ema) update_average(w, ranges);
}

// Keras's clipping: clipnorm scales each weight's gradient by clipnorm / max(norm, clipnorm);
// global_clipnorm scales every gradient by clipnorm * min(1 / norm, 1 / clipnorm) over their
// joint norm (NaN when that norm is not finite, as Keras makes it); clipvalue clips elements.
const float* Optimizer::clip(const float* g, std::span<const WeightRange> ranges) {
  if (clipped_.empty()) return g;
  float* out = clipped_.data();
  if (common_.clipvalue) {
    const auto v = static_cast<float>(*common_.clipvalue);
    for (const auto& r : ranges) cpu::clip_values(out + r.offset, g + r.offset, r.size, -v, v);
    return out;
  }
  if (common_.clipnorm) {
    const double c = *common_.clipnorm;
    for (const auto& r : ranges) {
      const double norm = std::sqrt(cpu::sum_squares(g + r.offset, r.size));
      cpu::scale_values(out + r.offset, g + r.offset, r.size, static_cast<float>(c / std::max(norm, c)));
    }
    return out;
  }
  const double c = *common_.global_clipnorm;
  double sum = 0;
  for (const auto& r : ranges) sum += cpu::sum_squares(g + r.offset, r.size);
  const double norm = std::sqrt(sum);
  const double scale = std::isfinite(norm) ? c * std::min(1.0 / norm, 1.0 / c) : std::numeric_limits<double>::quiet_NaN();
  for (const auto& r : ranges) cpu::scale_values(out + r.offset, g + r.offset, r.size, static_cast<float>(scale));
  return out;
}

// Keras's moving average: the first step copies the weights, each later one moves the average
// by (1 - ema_momentum) towards them; every ema_overwrite_frequency steps the weights take it.
void Optimizer::update_average(float* w, std::span<const WeightRange> ranges) {
  const auto momentum = iterations_ == 1 ? 0.0f : static_cast<float>(common_.ema_momentum);
  for (const auto& r : ranges) cpu::moving_average(average_.data() + r.offset, w + r.offset, r.size, momentum);
  const int64_t every = common_.ema_overwrite_frequency;
  if (every > 0 && iterations_ % every == 0) finalize_variable_values(w, ranges);
}

void Optimizer::finalize_variable_values(float* w, std::span<const WeightRange> ranges) const {
  if (!common_.use_ema || iterations_ == 0) return;
  for (const auto& r : ranges) std::copy_n(average_.data() + r.offset, r.size, w + r.offset);
}

void Optimizer::swap_variables(float* w, std::span<const WeightRange> ranges) {
  if (!common_.use_ema || iterations_ == 0) return;
  for (const auto& r : ranges) std::swap_ranges(w + r.offset, w + r.offset + r.size, average_.data() + r.offset);
}

nlohmann::json Optimizer::common_config() const {
  auto or_null = [](auto v) { return v > 0 ? nlohmann::json(v) : nlohmann::json(nullptr); };
  auto optional = [](const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  return {{"name", class_name()},
          {"learning_rate", learning_rate_.to_json()},
          {"weight_decay", or_null(common_.weight_decay)},
          {"clipnorm", optional(common_.clipnorm)},
          {"global_clipnorm", optional(common_.global_clipnorm)},
          {"clipvalue", optional(common_.clipvalue)},
          {"use_ema", common_.use_ema},
          {"ema_momentum", common_.ema_momentum},
          {"ema_overwrite_frequency", or_null(common_.ema_overwrite_frequency)}};
}

void Optimizer::apply(float* w, const float* g, int64_t n) {
  const WeightRange all{0, n};
  apply(w, g, {&all, 1});
}

std::map<std::string, Tensor> Optimizer::state() {
  std::map<std::string, Tensor> out;
  for_each_slot([&](const std::string& name, Tensor& slot) { out.emplace(name, slot.clone()); });
  if (!average_.empty()) out.emplace("average", average_.clone());
  return out;
}

nlohmann::json Optimizer::counters() const {
  nlohmann::json counters = {{"iterations", iterations_}};
  save_counters(counters);
  return counters;
}

void Optimizer::load_state(const std::map<std::string, Tensor>& state, const nlohmann::json& counters) {
  std::map<std::string, Tensor*> slots;
  for_each_slot([&](const std::string& name, Tensor& slot) { slots.emplace(name, &slot); });
  if (!average_.empty()) slots.emplace("average", &average_);
  auto names = [](const auto& map) {
    std::string out;
    for (const auto& [name, value] : map) out += (out.empty() ? "" : ", ") + name;
    return out.empty() ? std::string("none") : out;
  };
  if (state.size() != slots.size())
    throw ValueError(class_name() + "'s state has tensors " + names(slots) + ", the checkpoint has " + names(state));
  for (const auto& [name, slot] : slots) {
    const auto found = state.find(name);
    if (found == state.end())
      throw ValueError(class_name() + "'s state needs '" + name + "', the checkpoint has " + names(state));
    if (found->second.shape() != slot->shape())
      throw ValueError(class_name() + "'s state '" + name + "' has shape " + shape_str(slot->shape()) +
                       ", the checkpoint's " + shape_str(found->second.shape()));
    std::copy_n(found->second.data(), slot->size(), slot->data());
  }
  if (!counters.contains("iterations") || !counters["iterations"].is_number_integer())
    throw ValueError(class_name() + "'s state needs the counter iterations, received " + counters.dump());
  load_counters(counters);
  iterations_ = counters["iterations"].get<int64_t>();
}

void Optimizer::set_learning_rate(double value) {
  if (learning_rate_.schedule())
    throw ValueError(class_name() + "'s learning rate comes from a " + learning_rate_.schedule()->class_name() +
                     " schedule and cannot be set; received " + std::to_string(value));
  if (!(value > 0)) throw ValueError(class_name() + " learning_rate must be positive, received " + std::to_string(value));
  learning_rate_ = value;
}

}  // namespace kiln
