// Callbacks: hooks the trainer calls around training, epochs and batches, with Keras's names.
// The progress bar and the CSV log are callbacks like any other.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace kiln {

class Model;

// Named values in the order they were first set (loss, accuracy, val_loss, val_accuracy).
class Logs {
 public:
  void set(const std::string& key, double value);
  double at(const std::string& key) const;  // throws ValueError if absent
  bool contains(const std::string& key) const;
  const std::vector<std::pair<std::string, double>>& items() const { return items_; }

 private:
  std::vector<std::pair<std::string, double>> items_;
};

// Per-epoch values of every log key, as Keras's History.history.
struct History {
  std::vector<int> epoch;
  std::map<std::string, std::vector<double>> history;
};

// Where a fit stands, for a callback that checkpoints a run and continues it (BackupAndRestore).
// fit fills it in before on_train_begin and keeps it current after each epoch; a callback's
// on_train_begin may set it to an earlier run's values, and fit then continues that run exactly:
// it starts at `epoch` with the same shuffling (from `seed`), the engine's random streams at
// `random_step`, and `history` holding the epochs already run.
struct FitState {
  int epoch = 0;             // the next epoch to run
  uint64_t seed = 0;         // shuffling and the layers' random streams
  uint64_t random_step = 0;  // training steps taken (the random streams' position)
  History history;           // the epochs run so far
  // The last epoch's time in its training steps (from the first batch asked for to the last
  // step's end, validation left out), and the part of it spent waiting for batches (with
  // arrays: gathering them). from_pipeline: the batches come from a data::Dataset, and the
  // progress line at verbose 2 ends with the waiting share.
  double train_seconds = 0, data_wait_seconds = 0;
  bool from_pipeline = false;
};

// Hooks called where Keras calls them: fit calls the train and epoch hooks, and the test hooks
// around its validation pass; evaluate calls the test hooks; predict the predict hooks. Each
// run first gives the callback its model (set_model) and its parameters (set_params). A callback
// ends fit with model()->stop_training = true, as in Keras: set in a batch hook, the epoch stops
// after that batch (validation and on_epoch_end still run); set in on_epoch_end, no epoch follows.
class Callback {
 public:
  virtual ~Callback() = default;
  // Parameters of the run: epochs, steps per epoch, verbosity, and the stream the run prints its
  // progress to (FitOptions::out), where callbacks print their messages too.
  struct Params {
    int epochs = 1;
    int64_t steps = 0;
    int verbose = 1;
    std::ostream* out = &std::cout;
  };
  virtual void set_params(const Params& params) { params_ = params; }
  // Whether the callback writes output (prints, files), which a distributed fit leaves to the
  // chief process (kiln/distribute.hpp); callbacks that steer training run on every process.
  virtual bool chief_only() const { return false; }
  virtual void set_model(Model* model) { model_ = model; }
  Model* model() const { return model_; }
  // fit's state (see FitState), for the length of a fit; null in evaluate and predict.
  void set_fit_state(FitState* state) { fit_state_ = state; }
  FitState* fit_state() const { return fit_state_; }
  virtual void on_train_begin(const Logs&) {}
  virtual void on_train_end(const Logs&) {}
  virtual void on_epoch_begin(int /*epoch*/, const Logs&) {}
  virtual void on_epoch_end(int /*epoch*/, const Logs&) {}
  virtual void on_train_batch_begin(int64_t /*batch*/, const Logs&) {}
  virtual void on_train_batch_end(int64_t /*batch*/, const Logs&) {}
  virtual void on_test_begin(const Logs&) {}
  virtual void on_test_end(const Logs&) {}
  virtual void on_test_batch_begin(int64_t /*batch*/, const Logs&) {}
  virtual void on_test_batch_end(int64_t /*batch*/, const Logs&) {}
  virtual void on_predict_begin(const Logs&) {}
  virtual void on_predict_end(const Logs&) {}
  virtual void on_predict_batch_begin(int64_t /*batch*/, const Logs&) {}
  virtual void on_predict_batch_end(int64_t /*batch*/, const Logs&) {}

 protected:
  Params params_;
  Model* model_ = nullptr;
  FitState* fit_state_ = nullptr;
};

// Keras's progress bar: "1719/1719 [====...] - 2s 1ms/step - loss: 0.4012 - accuracy: 0.8594".
// On a terminal it redraws in place; elsewhere it prints each finished line once.
class Progbar {
 public:
  // verbose 1: a bar; verbose 2: one line when done. dynamic: redraw in place. unit_name: what
  // is counted, in the time per unit ("2ms/step").
  Progbar(int64_t target, int verbose, std::ostream& out, bool dynamic, std::string unit_name = "step");
  // note: appended to verbose 2's line.
  void update(int64_t current, const Logs& logs, bool finalize = false, const std::string& note = "");

 private:
  int64_t target_;
  int verbose_;
  std::ostream& out_;
  bool dynamic_;
  std::string unit_name_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  size_t drawn_width_ = 0;
};

// Whether standard output is a terminal (for in-place redraws).
bool stdout_is_terminal();

// Prints "Epoch 3/30" and a Progbar per epoch (verbose 1), or one line per epoch (verbose 2).
class ProgbarLogger : public Callback {
 public:
  explicit ProgbarLogger(std::ostream& out);
  bool chief_only() const override { return true; }
  void on_epoch_begin(int epoch, const Logs& logs) override;
  void on_train_batch_end(int64_t batch, const Logs& logs) override;
  void on_epoch_end(int epoch, const Logs& logs) override;

 private:
  std::ostream& out_;
  bool dynamic_;
  std::unique_ptr<Progbar> bar_;
  int64_t seen_ = 0;
};

// Streams epoch results to a CSV file as Keras's CSVLogger does: "epoch" then the log keys in
// sorted order, one row per epoch, flushed as it goes. With append, rows go after what the file
// already holds, and the header is written only when the file is absent or empty (Keras's
// append=True); without, each fit starts the file afresh, with the epochs a fit continued from a
// backup restored (FitState::history) as its first rows.
class CSVLogger : public Callback {
 public:
  explicit CSVLogger(std::string filename, char separator = ',', bool append = false);
  bool chief_only() const override { return true; }
  void on_train_begin(const Logs& logs) override;
  void on_epoch_end(int epoch, const Logs& logs) override;
  void on_train_end(const Logs& logs) override;

 private:
  std::string filename_;
  char separator_;
  bool append_;
  bool write_header_ = true;
  std::ofstream file_;
  std::vector<std::string> keys_;
};

// Keras's SwapEMAWeights: for an optimizer with use_ema, evaluation (and fit's validation) runs
// on the moving average of the weights, which are swapped in at on_test_begin and back at
// on_test_end. A ValueError at the start of a run whose optimizer does not keep the average.
class SwapEMAWeights : public Callback {
 public:
  void on_train_begin(const Logs& logs) override;
  void on_test_begin(const Logs& logs) override;
  void on_test_end(const Logs& logs) override;
};

// Reads a history back from the CSV file CSVLogger writes: "epoch" first, then one column per
// log key. Empty and "NA" cells read as NaN (a gap in the curve). Throws IoError naming the file,
// the line and the column for anything else that is not a number, rows with missing or extra
// cells, and a missing header or epoch column.
History read_history_csv(const std::filesystem::path& path, char separator = ',');

// Shortest text that reads back as the same double (what Python's repr prints).
std::string format_number(double value);

}  // namespace kiln
