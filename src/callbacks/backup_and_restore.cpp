// BackupAndRestore: the training state as one atomically replaced folder, and its restoration.
#include "kiln/backup_and_restore.hpp"

#include <cmath>
#include <limits>

#include "io/json_fields.hpp"
#include "io/named_weights.hpp"
#include "kiln/io.hpp"
#include "kiln/model.hpp"

namespace kiln {

namespace {

constexpr const char* kWeights = "weights.safetensors";
constexpr const char* kState = "state.json";
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

BackupAndRestore::BackupAndRestore(std::filesystem::path backup_dir, BackupAndRestoreOptions options)
    : dir_(std::move(backup_dir)), options_(options) {
  if (dir_.empty()) throw ValueError("BackupAndRestore needs a backup_dir, received an empty path");
}

bool BackupAndRestore::has_backup() const { return std::filesystem::exists(dir_ / kState); }

void BackupAndRestore::on_train_begin(const Logs&) {
  restored_epochs_ = 0;
  if (!has_backup()) return;
  const std::string where = (dir_ / kState).string();
  const nlohmann::json state = io::parse_json<nlohmann::json, IoError>(io::read_file(dir_ / kState), where);
  Optimizer& optimizer = *model()->optimizer();
  FitState restored;
  nlohmann::json counters;
  try {
    const std::string class_name = state.at("optimizer").at("class_name").get<std::string>();
    if (class_name != optimizer.class_name())
      throw IoError(where + ": the backup was made with " + class_name + ", this fit uses " + optimizer.class_name());
    counters = state.at("optimizer").at("counters");
    restored.epoch = state.at("epoch").get<int>();
    restored.seed = state.at("seed").get<uint64_t>();
    restored.random_step = state.at("random_step").get<uint64_t>();
  } catch (const nlohmann::json::exception& e) {
    throw IoError(where + ": " + e.what() + " (a backup's state.json has epoch, seed, random_step and optimizer)");
  }
  restored.history = history_from(state.contains("history") ? state["history"] : nlohmann::json(), where);
  const auto path = dir_ / kWeights;
  std::map<std::string, Tensor> weights, slots;
  for (auto& [name, tensor] : io::read_safetensors(path)) {
    if (name.starts_with(kSlotPrefix))
      slots.emplace(name.substr(std::string(kSlotPrefix).size()), std::move(tensor));
    else
      weights.emplace(name, std::move(tensor));
  }
  io::assign_named_weights(*model(), weights, path.string());
  try {
    optimizer.load_state(slots, counters);
  } catch (const ValueError& e) {
    throw IoError(path.string() + ": " + e.what());
  }
  *fit_state() = std::move(restored);
  restored_epochs_ = fit_state()->epoch;
  if (params_.verbose > 0)
    *params_.out << "Restored the backup in " << dir_.string() << ": continuing after epoch " << restored_epochs_ << "\n";
}

void BackupAndRestore::on_epoch_end(int epoch, const Logs&) {
  Optimizer& optimizer = *model()->optimizer();
  std::map<std::string, Tensor> tensors = io::named_weights(*model());
  for (auto& [name, slot] : optimizer.state()) tensors.emplace(kSlotPrefix + name, std::move(slot));
  const FitState& s = *fit_state();
  const nlohmann::json state = {{"format", "kiln BackupAndRestore 1"},
                                {"epoch", s.epoch},
                                {"seed", s.seed},
                                {"random_step", s.random_step},
                                {"optimizer", {{"class_name", optimizer.class_name()}, {"counters", optimizer.counters()}}},
                                {"history", history_json(s.history)}};
  try {
    io::write_folder_atomic(dir_, {{kWeights, io::safetensors_bytes(tensors, {{"format", "kiln backup"}})},
                                   {kState, state.dump(1) + "\n"}});
  } catch (const IoError& e) {
    throw IoError("BackupAndRestore could not write the backup of epoch " + std::to_string(epoch + 1) + " to " +
                  dir_.string() + " (" + e.what() + "); the backup there, if any, is the previous one, intact");
  }
}

void BackupAndRestore::on_train_end(const Logs&) {
  if (!options_.delete_checkpoint) return;
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

}  // namespace kiln
