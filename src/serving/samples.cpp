#include "serving/samples.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>

#include "kiln/datasets/dataset.hpp"

namespace kiln::serving {

namespace {
std::shared_ptr<const datasets::Dataset> cached(const std::string& name) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const datasets::Dataset>> loaded;
  std::lock_guard lock(mutex);
  auto& slot = loaded[name];
  if (!slot) slot = std::make_shared<const datasets::Dataset>(datasets::load(name));
  return slot;
}
}  // namespace

std::string dataset_samples(const Signature& sig, int64_t start, int64_t count) {
  if (sig.dataset.empty()) throw RequestError(404, "this model does not record the dataset it was trained on");
  std::shared_ptr<const datasets::Dataset> data;
  try {
    data = cached(sig.dataset);
  } catch (const std::exception& e) {
    throw RequestError(404, "the model's dataset '" + sig.dataset + "' cannot be loaded here: " + e.what());
  }
  const auto& images = data->test.images;
  const int64_t n = images.dim(0), size = images.row_size();
  count = std::clamp<int64_t>(count, 1, 64);
  auto list = nlohmann::json::array();
  for (int64_t i = 0; i < count; ++i) {
    const int64_t index = ((start % n + n) % n + i * (n / count)) % n;
    const uint8_t label = data->test.labels[index];
    list.push_back({{"index", index},
                    {"label", label < data->class_names.size() ? data->class_names[label] : std::to_string(label)},
                    {"pixels", std::vector<int>(images.data() + index * size, images.data() + (index + 1) * size)}});
  }
  return nlohmann::json({{"dataset", sig.dataset}, {"images", list}}).dump();
}

}  // namespace kiln::serving
