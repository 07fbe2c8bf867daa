#include "distribute/replicas.hpp"

#include "callbacks/training_state.hpp"
#include "kiln/io.hpp"
#include "kiln/random.hpp"
#include "trainer_checks.hpp"

namespace kiln::detail {

Replicas::Replicas(const distribute::MultiWorkerMirroredStrategy* strategy) : strategy_(strategy) {
  if (strategy_)
    exchange_.emplace(strategy_->communicator(),
                      strategy_->options().bucket_bytes / static_cast<int64_t>(sizeof(float)));
}

std::vector<Callback*> Replicas::callbacks(const std::vector<Callback*>& all) const {
  std::vector<Callback*> out;
  for (auto* cb : all)
    if (chief() || !cb->chief_only()) out.push_back(cb);
  return out;
}

void Replicas::sync_from_chief(Model& model, FitState& state) const {
  if (!active()) return;
  // The chief's state as one message: the state's JSON, a newline, then safetensors bytes.
  std::string bytes;
  if (chief()) {
    const TrainingState captured = capture_training_state(model, state);
    bytes = captured.state.dump() + "\n" + io::safetensors_bytes(captured.tensors, {});
  }
  strategy_->communicator().broadcast(bytes, 0);
  if (chief()) return;
  const size_t split = bytes.find('\n');
  const std::string where = "the chief's training state (" + std::to_string(bytes.size()) + " bytes)";
  if (split == std::string::npos) throw IoError(where + " has no state line");
  const auto json = nlohmann::json::parse(bytes.substr(0, split), nullptr, false);
  if (json.is_discarded()) throw IoError(where + ": its state is not JSON");
  restore_training_state(model, state, io::parse_safetensors(bytes.substr(split + 1), where), json, where, where);
}

uint64_t Replicas::stream_seed(uint64_t seed) const {
  return chief() ? seed : RandomStream(seed).fork(static_cast<uint64_t>(rank())).bits(0);
}

bool Replicas::any(bool flag) const {
  if (!active()) return flag;
  double v = flag ? 1.0 : 0.0;
  strategy_->communicator().sum(&v, 1);
  return v > 0;
}

void Replicas::log_results(Logs& logs, double loss_sum, int64_t seen, const metrics::MetricList& metrics) const {
  sums_.assign({loss_sum, static_cast<double>(seen)});
  for (const auto& m : metrics) sums_.insert(sums_.end(), {m->total(), m->count()});
  if (active()) strategy_->communicator().sum(sums_.data(), static_cast<int64_t>(sums_.size()));
  logs.set("loss", as_float32(sums_[1] > 0 ? sums_[0] / sums_[1] : 0.0));
  size_t k = 2;
  for (const auto& m : metrics) {
    logs.set(m->name(), Metric::mean(sums_[k], sums_[k + 1]));
    k += 2;
  }
}

void Replicas::average_moving_statistics(Model& model) const {
  if (!active()) return;
  auto& comm = strategy_->communicator();
  std::vector<Tensor*> stats;
  for (const auto& layer : model.layers())
    if (layer->trainable)
      for (auto& p : layer->params())
        if (!p.trainable) stats.push_back(&p.value);
  for (Tensor* t : stats) comm.start_sum(t->data(), t->size());
  comm.wait_all();
  const float scale = 1.0f / static_cast<float>(size());
  for (Tensor* t : stats)
    for (int64_t i = 0; i < t->size(); ++i) t->data()[i] *= scale;
}

const StepShare* Replicas::step_share(int64_t rows) {
  if (!active()) return nullptr;
  share_ = {rows, &*exchange_};
  return &share_;
}

}  // namespace kiln::detail
