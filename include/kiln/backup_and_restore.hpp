// Keras's BackupAndRestore: a checkpoint of the whole training state after every epoch, from
// which a run killed at any moment continues exactly, ending with the weights, to the bit, that
// the uninterrupted run ends with.
#pragma once

#include <filesystem>

#include "kiln/callbacks.hpp"

namespace kiln {

struct BackupAndRestoreOptions {
  // Remove the backup when fit ends normally (Keras's default); a run that stopped by an error
  // or a kill keeps it for the next.
  bool delete_checkpoint = true;
};

// At each epoch end, writes backup_dir/weights.safetensors (the model's weights under their
// names, the optimizer's state tensors under "optimizer/<slot>") and backup_dir/state.json (the
// next epoch, the shuffling seed, the random streams' position, the optimizer's counters and the
// history so far) as one unit: the folder is replaced in one atomic exchange, so a kill at any
// moment leaves the previous backup or the new one, never a mix. At the start of fit, a backup
// found there is restored and fit continues after its epoch. The backup must come from the same
// model, optimizer and data; a mismatch is an error naming what differs. Where writing fails (a
// full disk, a read-only folder) fit stops with an IoError, and the last backup is intact.
// Put it first among fit's callbacks, so that the others (CSVLogger, the learning curves) begin
// with the restored state. Keras's save_freq (batches) and double_checkpoint are not offered: backups are made at epoch
// ends, and the atomic exchange does what the second copy is for.
class BackupAndRestore : public Callback {
 public:
  explicit BackupAndRestore(std::filesystem::path backup_dir, BackupAndRestoreOptions options = {});
  bool chief_only() const override { return true; }
  void on_train_begin(const Logs& logs) override;
  void on_epoch_end(int epoch, const Logs& logs) override;
  void on_train_end(const Logs& logs) override;
  // Whether backup_dir holds a backup (what the next fit would continue from).
  bool has_backup() const;
  // The epochs the last on_train_begin found done (0 when it started afresh).
  int restored_epochs() const { return restored_epochs_; }

 private:
  std::filesystem::path dir_;
  BackupAndRestoreOptions options_;
  int restored_epochs_ = 0;
};

}  // namespace kiln
