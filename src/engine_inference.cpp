// What inference does beyond running each node: runs of per-channel maps folded into the
// product before them, and batches run in cache-sized slices.
#include <algorithm>
#include <numeric>

#include "engine.hpp"

namespace kiln::detail {

namespace {

// What the activations of an inference slice may take. A batch of 1000 images through the CNN
// recipe (240 KB of activations an image) otherwise streams every layer's output through memory;
// in slices of 33 images they stay in the caches. Predicting 1000 images took 50-51 ms (min and
// median of three alternating runs) in slices of 8 MB, 53-54 ms of 4 MB or 2 MB, 51-55 ms of
// 16 MB, 62-72 ms of 32 MB and 70-76 ms in one pass (1 MB L2 a core, 32 MB L3).
constexpr int64_t kInferenceBytes = int64_t{8} << 20;

}  // namespace

int64_t Engine::inference_rows() const {
  if (inference_rows_ == 0) {
    const int64_t per_sample = std::max<int64_t>(arena_bytes(1, false, false), 1);
    inference_rows_ = std::max<int64_t>(kInferenceBytes / per_sample, 1);
  }
  return inference_rows_;
}

// A run folds into node i's store when each next node reads only the previous one's output, is
// that output's only reader, the output is not a model output, and the next layer is a
// per-channel map at inference; a ReLU ends the run.
void Engine::find_folds() {
  const int n = static_cast<int>(nodes_.size());
  fold_end_.resize(n);
  std::iota(fold_end_.begin(), fold_end_.end(), 0);
  fold_maps_.assign(n, {});
  for (int i = 0; i < n; ++i) {
    if (fold_end_[i] < 0 || !nodes_[i].layer->can_store_mapped()) continue;
    int end = i;
    for (MapKind kind = MapKind::kAffine; kind == MapKind::kAffine && end + 1 < n;) {
      const int t = num_inputs_ + end;
      const EngineNode& next = nodes_[end + 1];
      kind = next.layer->channel_map();
      if (kind == MapKind::kNone || next.inputs != std::vector<int>{t} || consumers_[t].size() != 1 ||
          std::find(outputs_.begin(), outputs_.end(), t) != outputs_.end())
        break;
      fold_end_[++end] = -1;
    }
    if (end == i) continue;
    fold_end_[i] = end;
    fold_maps_[i].resize(2 * static_cast<size_t>(shapes_[num_inputs_ + i].back()));
  }
}

void Engine::forward_folded(int i, const Context& ctx) {
  const int end = fold_end_[i];
  std::vector<float>& buffer = fold_maps_[i];
  const size_t channels = buffer.size() / 2;
  ChannelMap map{std::span(buffer).first(channels), std::span(buffer).last(channels)};
  nodes_[i].layer->start_map(map);
  for (int k = i + 1; k <= end; ++k) {
    if (nodes_[k].layer->channel_map() == MapKind::kRelu)
      map.relu = true;
    else
      nodes_[k].layer->compose_map(map);
  }
  nodes_[i].layer->forward_mapped(ctx, node_inputs_[i], values_[num_inputs_ + end], map);
}

}  // namespace kiln::detail
