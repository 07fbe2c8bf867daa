#include "serving/model_manager.hpp"

#include <algorithm>
#include <charconv>

#include "kiln/io.hpp"

namespace kiln::serving {

namespace fs = std::filesystem;

namespace {
std::optional<int64_t> version_number(const std::string& name) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), v);
  if (ec != std::errc() || end != name.data() + name.size() || v < 0) return std::nullopt;
  return v;
}

// A kiln model folder, or a file Keras saved (.keras, .h5).
bool is_model_folder(const fs::path& dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / "config.json", ec) || io::is_keras_file(dir);
}

fs::file_time_type stamp_of(const fs::path& dir) {
  std::error_code ec;
  auto t = fs::last_write_time(fs::is_regular_file(dir, ec) ? dir : dir / "config.json", ec);
  return ec ? fs::file_time_type{} : t;
}
}  // namespace

ModelManager::ModelManager(std::vector<ModelSource> sources, BatchingOptions batching, int replicas,
                           double timeout_seconds, std::ostream& log)
    : batching_(batching),
      replicas_(batching.max_batch_size > 0 ? 1 : replicas),
      timeout_seconds_(timeout_seconds),
      log_(log) {
  for (auto& s : sources) {
    if (s.version_policy != "latest" && s.version_policy != "all" && s.version_policy != "specific")
      throw ValueError("model '" + s.name + "': version policy must be latest, all or specific, received '" +
                       s.version_policy + "'");
    if (models_.contains(s.name)) throw ValueError("model name '" + s.name + "' is given twice");
    const std::string name = s.name;
    models_[name].source = std::move(s);
  }
}

std::vector<std::pair<int64_t, fs::path>> ModelManager::versions_on_disk(const ModelSource& source) const {
  std::vector<std::pair<int64_t, fs::path>> out;
  if (is_model_folder(source.base_path)) return {{1, source.base_path}};
  std::error_code ec;
  for (fs::directory_iterator it(source.base_path, ec), end; !ec && it != end; it.increment(ec)) {
    auto v = version_number(it->path().filename().string());
    if (v && it->is_directory(ec)) out.emplace_back(*v, it->path());
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  return out;
}

bool ModelManager::try_load(Served& model, int64_t version, const fs::path& dir) {
  const auto stamp = stamp_of(dir);
  {
    std::lock_guard lock(mutex_);
    auto& st = model.states[version];
    if (st.state == "END" && !st.error.empty() && st.stamp == stamp) return false;  // failed, unchanged since
    st = {"LOADING", "", stamp};
  }
  try {
    auto servable = std::make_shared<Servable>([&] { return load_model(dir); }, replicas_, version, batching_, timeout_seconds_);
    std::lock_guard lock(mutex_);
    model.loaded[version] = std::move(servable);
    model.states[version] = {"AVAILABLE", "", stamp};
    log_ << "kiln serve: loaded " << model.source.name << " version " << version << " from " << dir.string() << std::endl;
    return true;
  } catch (const std::exception& e) {
    std::lock_guard lock(mutex_);
    model.states[version] = {"END", e.what(), stamp};
    log_ << "kiln serve: refused " << model.source.name << " version " << version << " (" << dir.string()
         << "): " << e.what() << std::endl;
    return false;
  }
}

void ModelManager::poll() {
  for (auto& [name, model] : models_) poll(model);
}

void ModelManager::poll(Served& model) {
  const auto on_disk = versions_on_disk(model.source);
  std::vector<int64_t> wanted;
  for (const auto& [v, dir] : on_disk) {
    const auto& policy = model.source.version_policy;
    if (policy == "specific" && std::ranges::find(model.source.versions, v) == model.source.versions.end()) continue;
    bool loaded;
    {
      std::lock_guard lock(mutex_);
      loaded = model.loaded.contains(v);
    }
    if (loaded || try_load(model, v, dir)) {
      wanted.push_back(v);
      if (policy == "latest" && static_cast<int64_t>(wanted.size()) >= model.source.num_versions) break;
    }
  }
  std::vector<std::shared_ptr<Servable>> dropped;  // destroyed outside the lock
  std::lock_guard lock(mutex_);
  for (auto it = model.loaded.begin(); it != model.loaded.end();) {
    if (std::ranges::find(wanted, it->first) != wanted.end()) {
      ++it;
      continue;
    }
    log_ << "kiln serve: unloaded " << model.source.name << " version " << it->first << std::endl;
    model.states[it->first] = {"END", "", {}};
    dropped.push_back(std::move(it->second));
    it = model.loaded.erase(it);
  }
  for (auto it = model.states.begin(); it != model.states.end();) {
    const bool present = std::ranges::any_of(on_disk, [&](const auto& d) { return d.first == it->first; });
    it = present || model.loaded.contains(it->first) ? std::next(it) : model.states.erase(it);
  }
}

const ModelManager::Served& ModelManager::served(const std::string& name) const {
  auto it = models_.find(name);
  if (it == models_.end()) {
    std::string names;
    for (const auto& [n, m] : models_) names += (names.empty() ? "'" : ", '") + n + "'";
    throw RequestError(404, "no model named '" + name + "'; this server has " + names);
  }
  return it->second;
}

std::shared_ptr<Servable> ModelManager::find(const std::string& name, std::optional<int64_t> version) const {
  const Served& model = served(name);
  std::lock_guard lock(mutex_);
  if (model.loaded.empty())
    throw RequestError(503, "model '" + name + "' has no version loaded (yet): no loadable version folder under " +
                                model.source.base_path.string());
  if (!version) return model.loaded.rbegin()->second;
  auto it = model.loaded.find(*version);
  if (it == model.loaded.end()) {
    std::string have;
    for (const auto& [v, s] : model.loaded) have += (have.empty() ? "" : ", ") + std::to_string(v);
    throw RequestError(404, "model '" + name + "' has no version " + std::to_string(*version) + " loaded; it serves " + have);
  }
  return it->second;
}

nlohmann::json ModelManager::status(const std::string& name, std::optional<int64_t> version) const {
  const Served& model = served(name);
  std::lock_guard lock(mutex_);
  auto list = nlohmann::json::array();
  for (auto it = model.states.rbegin(); it != model.states.rend(); ++it) {
    if (version && it->first != *version) continue;
    const auto& st = it->second;
    list.push_back({{"version", std::to_string(it->first)},
                    {"state", st.state},
                    {"status", {{"error_code", st.error.empty() ? "OK" : "UNKNOWN"}, {"error_message", st.error}}}});
  }
  if (version && list.empty())
    throw RequestError(404, "model '" + name + "' has no version " + std::to_string(*version));
  return {{"model_version_status", list}};
}

void ModelManager::write_metrics(std::string& out) const {
  std::lock_guard lock(mutex_);
  out += "# HELP kiln_batch_size Instances in each run of a model version (one request, or a batch of them).\n";
  out += "# TYPE kiln_batch_size histogram\n";
  for (const auto& [name, model] : models_)
    for (const auto& [version, servable] : model.loaded)
      servable->batch_sizes().write(out, "kiln_batch_size",
                                    "model=\"" + label_value(name) + "\",version=\"" + std::to_string(version) + "\"", kBatchBounds);
  out += "# HELP kiln_queue_length Requests waiting for a batch.\n";
  out += "# TYPE kiln_queue_length gauge\n";
  for (const auto& [name, model] : models_)
    for (const auto& [version, servable] : model.loaded)
      out += "kiln_queue_length{model=\"" + label_value(name) + "\",version=\"" + std::to_string(version) + "\"} " +
             std::to_string(servable->queue_length()) + "\n";
}

std::vector<std::string> ModelManager::names() const {
  std::vector<std::string> out;
  for (const auto& [n, m] : models_) out.push_back(n);
  return out;
}

}  // namespace kiln::serving
