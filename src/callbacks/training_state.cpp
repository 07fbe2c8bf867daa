// The training state's capture and restoration (BackupAndRestore's files, a distributed fit's start).
#include "callbacks/training_state.hpp"

#include <cmath>
#include <limits>

#include "io/named_weights.hpp"
#include "kiln/model.hpp"

namespace kiln::detail {

namespace {

constexpr const char* kSlotPrefix = "optimizer/";

nlohmann::json history_json(const History& history) {
  nlohmann::json values = nlohmann::json::object();
  for (const auto& [key, series] : history.history) {
    auto& out = values[key] = nlohmann::json::array();
    for (double v : series) out.push_back(std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr));
  }
  return {{"epoch", history.epoch}, {"history", values}};
}

History history_from(const nlohmann::json& j, const std::string& where) {
  History history;
  try {
    history.epoch = j.at("epoch").get<std::vector<int>>();
    for (const auto& [key, series] : j.at("history").items())
      for (const auto& v : series)
        history.history[key].push_back(v.is_null() ? std::numeric_limits<double>::quiet_NaN() : v.get<double>());
  } catch (const nlohmann::json::exception& e) {
    throw IoError(where + ": field 'history' is malformed (" + e.what() + ")");
  }
  return history;
}

}  // namespace

TrainingState capture_training_state(const Model& model, const FitState& fit) {
  Optimizer& optimizer = *model.optimizer();
  TrainingState out{io::named_weights(model), {}};
  for (auto& [name, slot] : optimizer.state()) out.tensors.emplace(kSlotPrefix + name, std::move(slot));
  out.state = {{"format", "kiln BackupAndRestore 1"},
               {"epoch", fit.epoch},
               {"seed", fit.seed},
               {"random_step", fit.random_step},
               {"optimizer", {{"class_name", optimizer.class_name()}, {"counters", optimizer.counters()}}},
               {"history", history_json(fit.history)}};
  return out;
}

void restore_training_state(Model& model, FitState& fit, const std::map<std::string, Tensor>& tensors,
                            const nlohmann::json& state, const std::string& tensors_source,
                            const std::string& state_source) {
  Optimizer& optimizer = *model.optimizer();
  FitState restored;
  nlohmann::json counters;
  try {
    const std::string class_name = state.at("optimizer").at("class_name").get<std::string>();
    if (class_name != optimizer.class_name())
      throw IoError(state_source + ": the backup was made with " + class_name + ", this fit uses " + optimizer.class_name());
    counters = state.at("optimizer").at("counters");
    restored.epoch = state.at("epoch").get<int>();
    restored.seed = state.at("seed").get<uint64_t>();
    restored.random_step = state.at("random_step").get<uint64_t>();
  } catch (const nlohmann::json::exception& e) {
    throw IoError(state_source + ": " + e.what() + " (a backup's state.json has epoch, seed, random_step and optimizer)");
  }
  restored.history = history_from(state.contains("history") ? state["history"] : nlohmann::json(), state_source);
  std::map<std::string, Tensor> weights, slots;
  for (const auto& [name, tensor] : tensors) {
    if (name.starts_with(kSlotPrefix))
      slots.emplace(name.substr(std::string(kSlotPrefix).size()), tensor);
    else
      weights.emplace(name, tensor);
  }
  io::assign_named_weights(model, weights, tensors_source);
  try {
    optimizer.load_state(slots, counters);
  } catch (const ValueError& e) {
    throw IoError(tensors_source + ": " + e.what());
  }
  fit.epoch = restored.epoch;
  fit.seed = restored.seed;
  fit.random_step = restored.random_step;
  fit.history = std::move(restored.history);
}

}  // namespace kiln::detail
