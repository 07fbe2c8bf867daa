// Keras's standard training callbacks, with Keras's arguments, defaults and messages:
// EarlyStopping, ModelCheckpoint, ReduceLROnPlateau, LearningRateScheduler, TerminateOnNaN,
// LambdaCallback, and the Monitor the first three share. Messages go to Params::out.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "kiln/callbacks.hpp"
#include "kiln/tensor.hpp"

namespace kiln {

// Which log value a callback watches and which way is better (Keras's MonitorCallback).
// mode "min" or "max"; "auto" maximizes a name containing "acc" or "auc" (accuracy, val_acc,
// val_auc) and minimizes anything else (loss, val_loss). Any other mode is a ValueError.
class Monitor {
 public:
  // `owner` names the callback in messages ("EarlyStopping").
  Monitor(std::string owner, std::string monitor, const std::string& mode, double min_delta = 0.0);
  const std::string& name() const { return monitor_; }
  bool maximize() const { return maximize_; }
  double min_delta() const { return min_delta_; }
  // The monitored value in logs. Absent, a ValueError that lists the names logs has: a monitor
  // that names nothing (val_acc for val_accuracy) stops fit at the end of the first epoch, where
  // Keras would only warn and carry on.
  double value(const Logs& logs) const;
  // Whether `current` beats `reference` by more than min_delta (|min_delta|, in the direction
  // of improvement), as Keras's _is_improvement: any value, even NaN, beats no reference, and
  // NaN never beats a reference.
  bool is_improvement(double current, std::optional<double> reference) const;
  // The worst possible value: inf when minimizing, -inf when maximizing.
  double worst() const;

 private:
  std::string owner_, monitor_;
  bool maximize_ = false;
  double min_delta_ = 0.0;
};

struct EarlyStoppingOptions {
  std::string monitor = "val_loss";
  double min_delta = 0.0;  // a change smaller than this is no improvement
  int patience = 0;        // epochs without improvement before stopping
  int verbose = 0;         // 1: say when it stops and when it restores weights
  std::string mode = "auto";
  // Training stops unless the monitored value beats this within `patience` epochs.
  std::optional<double> baseline;
  // At the end of training, load the weights of the best epoch seen (even if it did not stop).
  bool restore_best_weights = false;
  int start_from_epoch = 0;  // epochs of warm-up before watching the monitor
};

// Stops training when the monitored value has stopped improving (Keras's EarlyStopping): after
// `patience` epochs with no improvement, at an epoch after the first. Prints
// "Epoch N: early stopping" when it stopped and verbose is 1.
class EarlyStopping : public Callback {
 public:
  explicit EarlyStopping(EarlyStoppingOptions options = {});
  void on_train_begin(const Logs& logs) override;
  void on_epoch_end(int epoch, const Logs& logs) override;
  void on_train_end(const Logs& logs) override;
  // As Keras's attributes: the 0-based epoch it stopped at (0: it did not), epochs waited since
  // the last improvement, the best value and its 0-based epoch.
  int stopped_epoch() const { return stopped_epoch_; }
  int wait() const { return wait_; }
  std::optional<double> best() const { return best_; }
  int best_epoch() const { return best_epoch_; }

 private:
  EarlyStoppingOptions options_;
  Monitor monitor_;
  int wait_ = 0, stopped_epoch_ = 0, best_epoch_ = 0;
  std::optional<double> best_;
  std::optional<std::vector<Tensor>> best_weights_;
};

// Keras's save_freq: "epoch", or a number of training batches.
using SaveFreq = std::variant<std::string, int64_t>;

struct ModelCheckpointOptions {
  std::string monitor = "val_loss";
  int verbose = 0;  // 1: a line for each save (or for each epoch that did not improve)
  // Save only when the monitored value improves on the best so far.
  bool save_best_only = false;
  // A weights-only file instead of a model folder; see ModelCheckpoint.
  bool save_weights_only = false;
  std::string mode = "auto";
  SaveFreq save_freq = "epoch";  // "epoch" or a batch count >= 1
  // The "best" value to beat before the first save (save_best_only).
  std::optional<double> initial_value_threshold;
};

// Saves the model during training (Keras's ModelCheckpoint), at the end of every epoch or every
// save_freq batches (counted across epochs, as Keras counts them).
// filepath is a template filled as Python's str.format fills it in Keras: {epoch} (1-based),
// {batch} (1-based, when saving by batches) and any log key ({val_loss}), with format specs
// such as {epoch:02d}, {val_loss:.2f}, {loss:.3e}, {accuracy:.1%}, {epoch:>4} (fill, alignment,
// sign, zero padding, width, precision; types d, f, e, g, % and their capitals); {{ and }} are
// braces. A key the logs do not have is a ValueError naming the keys they do.
// What is written:
// - by default the whole model, with Model::save: a folder at filepath holding config.json and
//   model.safetensors, replaced as one unit; load_model reads it back;
// - with save_weights_only, a single safetensors file at filepath (which must end in
//   ".safetensors") holding every weight as "<layer>/<weight>", written atomically by
//   Model::save_weights; Model::load_weights reads it into a model of the same architecture.
// A save_freq other than "epoch" or a positive integer, or a filepath that does not fit
// save_weights_only, is a ValueError at construction.
class ModelCheckpoint : public Callback {
 public:
  explicit ModelCheckpoint(std::string filepath, ModelCheckpointOptions options = {});
  bool chief_only() const override { return true; }
  void on_epoch_begin(int epoch, const Logs& logs) override;
  void on_epoch_end(int epoch, const Logs& logs) override;
  void on_train_batch_end(int64_t batch, const Logs& logs) override;
  // The path a save at 0-based `epoch` (and 0-based `batch`, or -1 at an epoch's end) would
  // write to, with these logs.
  std::string file_path(int epoch, int64_t batch, const Logs& logs) const;
  // The best monitored value so far (save_best_only), or initial_value_threshold.
  std::optional<double> best() const { return best_; }

 private:
  void save(int epoch, int64_t batch, const Logs& logs);
  bool should_save(int epoch, const Logs& logs, const std::string& path);

  std::string filepath_;
  ModelCheckpointOptions options_;
  Monitor monitor_;
  int64_t save_every_ = 0;  // batches; 0: at each epoch's end
  int64_t batches_since_save_ = 0, last_batch_ = -1;
  int current_epoch_ = 0;
  std::optional<double> best_;
};

struct ReduceLROnPlateauOptions {
  std::string monitor = "val_loss";
  double factor = 0.1;  // new_lr = lr * factor; in (0, 1)
  int patience = 10;    // epochs without improvement before reducing
  int verbose = 0;      // 1: a line for each reduction
  std::string mode = "auto";
  double min_delta = 1e-4;  // a change smaller than this is no improvement
  int cooldown = 0;         // epochs to wait after a reduction before counting again
  double min_lr = 0.0;      // the rate never goes below this
};

// Reduces the optimizer's learning rate by `factor` when the monitored value has not improved
// for `patience` epochs (Keras's ReduceLROnPlateau). A factor >= 1 is a ValueError, as in
// Keras, and so is one <= 0 (kiln's optimizers take positive rates only). Prints
// "Epoch N: ReduceLROnPlateau reducing learning rate to X." when verbose is 1. An optimizer
// whose rate comes from a schedule cannot be reduced (ValueError, as Keras's TypeError).
class ReduceLROnPlateau : public Callback {
 public:
  explicit ReduceLROnPlateau(ReduceLROnPlateauOptions options = {});
  void on_train_begin(const Logs& logs) override;
  void on_epoch_end(int epoch, const Logs& logs) override;
  int wait() const { return wait_; }
  int cooldown_counter() const { return cooldown_counter_; }
  std::optional<double> best() const { return best_; }

 private:
  ReduceLROnPlateauOptions options_;
  Monitor monitor_;
  int wait_ = 0, cooldown_counter_ = 0;
  std::optional<double> best_;
};

// Sets the optimizer's learning rate at the start of every epoch to schedule(epoch, current
// rate), epoch 0-based (Keras's LearningRateScheduler). verbose 1 prints
// "Epoch N: LearningRateScheduler setting learning rate to X.".
class LearningRateScheduler : public Callback {
 public:
  explicit LearningRateScheduler(std::function<double(int epoch, double lr)> schedule,
                                 int verbose = 0);
  void on_epoch_begin(int epoch, const Logs& logs) override;

 private:
  std::function<double(int, double)> schedule_;
  int verbose_;
};

// Stops training after the first batch whose running loss is NaN or infinite, within the epoch
// (Keras's TerminateOnNaN): prints "Batch N: Invalid loss, terminating training" and sets
// stop_training. With raise_error, throws kiln::Error instead (Keras's RuntimeError).
class TerminateOnNaN : public Callback {
 public:
  explicit TerminateOnNaN(bool raise_error = false) : raise_error_(raise_error) {}
  void on_train_batch_end(int64_t batch, const Logs& logs) override;

 private:
  bool raise_error_;
};

// The functions LambdaCallback calls; one left empty does nothing.
struct LambdaCallbackOptions {
  std::function<void(int epoch, const Logs&)> on_epoch_begin;
  std::function<void(int epoch, const Logs&)> on_epoch_end;
  std::function<void(const Logs&)> on_train_begin;
  std::function<void(const Logs&)> on_train_end;
  std::function<void(int64_t batch, const Logs&)> on_train_batch_begin;
  std::function<void(int64_t batch, const Logs&)> on_train_batch_end;
};

// A callback made of functions (Keras's LambdaCallback):
// LambdaCallback({.on_epoch_end = [](int epoch, const Logs& logs) { ... }}).
class LambdaCallback : public Callback {
 public:
  explicit LambdaCallback(LambdaCallbackOptions functions) : f_(std::move(functions)) {}
  void on_epoch_begin(int epoch, const Logs& logs) override;
  void on_epoch_end(int epoch, const Logs& logs) override;
  void on_train_begin(const Logs& logs) override;
  void on_train_end(const Logs& logs) override;
  void on_train_batch_begin(int64_t batch, const Logs& logs) override;
  void on_train_batch_end(int64_t batch, const Logs& logs) override;

 private:
  LambdaCallbackOptions f_;
};

}  // namespace kiln
