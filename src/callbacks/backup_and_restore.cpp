// BackupAndRestore: the training state as one atomically replaced folder, and its restoration.
#include "kiln/backup_and_restore.hpp"

#include "callbacks/training_state.hpp"
#include "io/json_fields.hpp"
#include "kiln/io.hpp"
#include "kiln/model.hpp"

namespace kiln {

namespace {

constexpr const char* kWeights = "weights.safetensors";
constexpr const char* kState = "state.json";

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
  const auto path = dir_ / kWeights;
  detail::restore_training_state(*model(), *fit_state(), io::read_safetensors(path), state, path.string(), where);
  restored_epochs_ = fit_state()->epoch;
  if (params_.verbose > 0)
    *params_.out << "Restored the backup in " << dir_.string() << ": continuing after epoch " << restored_epochs_ << "\n";
}

void BackupAndRestore::on_epoch_end(int epoch, const Logs&) {
  const detail::TrainingState state = detail::capture_training_state(*model(), *fit_state());
  try {
    io::write_folder_atomic(dir_, {{kWeights, io::safetensors_bytes(state.tensors, {{"format", "kiln backup"}})},
                                   {kState, state.state.dump(1) + "\n"}});
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
