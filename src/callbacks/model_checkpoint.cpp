// ModelCheckpoint: saves the model (a Model::save folder) or its weights (one safetensors file)
// at each epoch's end or every N batches, optionally only on improvement (Keras 3's
// keras/src/callbacks/model_checkpoint.py).
#include <filesystem>

#include "callbacks/filepath_template.hpp"
#include "callbacks/print.hpp"
#include "kiln/error.hpp"
#include "kiln/model.hpp"
#include "kiln/training_callbacks.hpp"

namespace kiln {

namespace {

constexpr const char* kName = "ModelCheckpoint";

int64_t batches_between_saves(const SaveFreq& freq) {
  if (const auto* s = std::get_if<std::string>(&freq)) {
    if (*s == "epoch") return 0;
    throw ValueError(std::string(kName) +
                     ": save_freq must be \"epoch\" or a number of batches >= 1, received \"" + *s +
                     "\"");
  }
  const int64_t n = std::get<int64_t>(freq);
  if (n < 1)
    throw ValueError(std::string(kName) +
                     ": save_freq must be \"epoch\" or a number of batches >= 1, received " +
                     std::to_string(n));
  return n;
}

}  // namespace

ModelCheckpoint::ModelCheckpoint(std::string filepath, ModelCheckpointOptions options)
    : filepath_(std::move(filepath)),
      options_(std::move(options)),
      monitor_(kName, options_.monitor, options_.mode),
      save_every_(batches_between_saves(options_.save_freq)),
      best_(options_.initial_value_threshold) {
  if (filepath_.empty()) throw ValueError(std::string(kName) + ": filepath is empty");
  const bool safetensors = filepath_.ends_with(".safetensors");
  if (options_.save_weights_only && !safetensors)
    throw ValueError(
        std::string(kName) +
        ": with save_weights_only the filepath must end in \".safetensors\" (one weights file), "
        "received \"" +
        filepath_ + "\"");
  if (!options_.save_weights_only && safetensors)
    throw ValueError(std::string(kName) +
                     ": a whole model is saved as a folder (config.json + model.safetensors), "
                     "so the filepath must not end in \".safetensors\"; received \"" +
                     filepath_ + "\" (set save_weights_only for a weights file)");
  detail::check_filepath_template(filepath_, kName);
}

void ModelCheckpoint::on_epoch_begin(int epoch, const Logs&) { current_epoch_ = epoch; }

void ModelCheckpoint::on_train_batch_end(int64_t batch, const Logs& logs) {
  if (save_every_ == 0) return;
  // Batches seen since the last save, counted across epochs (a batch index that does not grow
  // starts a new epoch), as Keras counts them.
  batches_since_save_ += last_batch_ < 0 || batch <= last_batch_ ? batch + 1 : batch - last_batch_;
  last_batch_ = batch;
  if (batches_since_save_ < save_every_) return;
  batches_since_save_ = 0;
  save(current_epoch_, batch, logs);
}

void ModelCheckpoint::on_epoch_end(int epoch, const Logs& logs) {
  if (save_every_ == 0) save(epoch, -1, logs);
}

std::string ModelCheckpoint::file_path(int epoch, int64_t batch, const Logs& logs) const {
  detail::NamedIntegers integers{{"epoch", epoch + 1}};
  // As Keras: {batch} is the 1-based batch when saving by batches, unless the logs have one.
  if (batch >= 0 && !logs.contains("batch")) integers.emplace_back("batch", batch + 1);
  return detail::format_filepath(filepath_, integers, logs, kName);
}

bool ModelCheckpoint::should_save(int epoch, const Logs& logs, const std::string& path) {
  const bool from_batch = save_every_ != 0;
  if (!options_.save_best_only) {
    if (options_.verbose > 0)
      detail::message(params_, from_batch)
          << "Epoch " << epoch + 1 << ": saving model to " << path << '\n';
    return true;
  }
  const double current = monitor_.value(logs);
  // Keras 3 before 3.10 starts from inf (-inf when maximizing) and prints it so.
  const std::string best = detail::fixed5(best_ ? *best_ : monitor_.worst());
  if (monitor_.is_improvement(current, best_)) {
    if (options_.verbose > 0)
      detail::message(params_, from_batch)
          << "Epoch " << epoch + 1 << ": " << monitor_.name() << " improved from " << best << " to "
          << detail::fixed5(current) << ", saving model to " << path << '\n';
    best_ = current;
    return true;
  }
  if (options_.verbose > 0)
    detail::message(params_, from_batch) << "Epoch " << epoch + 1 << ": " << monitor_.name()
                                         << " did not improve from " << best << '\n';
  return false;
}

void ModelCheckpoint::save(int epoch, int64_t batch, const Logs& logs) {
  const std::string path = file_path(epoch, batch, logs);
  if (!should_save(epoch, logs, path)) return;
  if (options_.save_weights_only) {
    if (std::filesystem::is_directory(path))
      throw IoError(std::string(kName) + ": cannot write the weights file '" + path +
                    "': a folder of that name exists; give a filepath that is not a folder");
    const auto parent = std::filesystem::path(path).parent_path();
    std::error_code ec;
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec)
      throw IoError(std::string(kName) + ": cannot create the folder '" + parent.string() +
                    "': " + ec.message());
    model()->save_weights(path);
  } else {
    model()->save(path);  // creates the folders above it
  }
  if (options_.verbose > 0)
    detail::message(params_, false)
        << "Epoch " << epoch + 1 << ": finished saving model to " << path << '\n'
        << std::flush;
}

}  // namespace kiln
