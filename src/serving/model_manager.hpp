// The models a server serves and their versions, as TF Serving manages them: a model's base path
// holds numbered version folders; its version policy picks which are served ("latest": the
// highest that loads; "all"; "specific": the listed ones). poll() looks again: a new version is
// loaded before the one it replaces is dropped (requests already holding the old one finish on
// it), a version that fails to load is logged and skipped until its folder changes, and a removed
// version is unloaded.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <nlohmann/json.hpp>

#include "kiln/serving.hpp"
#include "serving/servable.hpp"

namespace kiln::serving {

class ModelManager {
 public:
  // Each version is loaded `replicas` times, and waits at most timeout_seconds for a batch (Servable).
  ModelManager(std::vector<ModelSource> sources, BatchingOptions batching, int replicas, double timeout_seconds,
               std::ostream& log);
  // Scans every base path once (loading, swapping and unloading as above).
  void poll();
  // The version a request asks for (the highest loaded one when none is given). RequestError 404
  // for an unknown model or version, 503 when the model has no version loaded yet.
  std::shared_ptr<Servable> find(const std::string& name, std::optional<int64_t> version) const;
  // TF Serving's {"model_version_status": [...]} for a model (one version, or all it knows).
  nlohmann::json status(const std::string& name, std::optional<int64_t> version) const;
  std::vector<std::string> names() const;
  // RequestError 404 for a name this server does not serve.
  void require(const std::string& name) const { served(name); }
  // Appends each loaded version's batch sizes and queue length in Prometheus's text format.
  void write_metrics(std::string& out) const;

 private:
  struct VersionState {
    std::string state;  // "LOADING", "AVAILABLE", "END"
    std::string error;  // why it failed to load
    std::filesystem::file_time_type stamp{};
  };
  struct Served {
    ModelSource source;
    std::map<int64_t, std::shared_ptr<Servable>> loaded;
    std::map<int64_t, VersionState> states;
  };
  void poll(Served& model);
  // The version folders present now, highest first, with the time each last changed.
  std::vector<std::pair<int64_t, std::filesystem::path>> versions_on_disk(const ModelSource& source) const;
  bool try_load(Served& model, int64_t version, const std::filesystem::path& dir);
  const Served& served(const std::string& name) const;

  BatchingOptions batching_;
  int replicas_;
  double timeout_seconds_;
  std::ostream& log_;
  mutable std::mutex mutex_;  // guards models_' maps; loading happens outside it
  std::map<std::string, Served> models_;
};

}  // namespace kiln::serving
