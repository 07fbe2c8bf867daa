#include "train_callbacks.hpp"

#include "io/strict_fields.hpp"

namespace kiln::cli {

namespace {

// A callback's config, read strictly.
using Fields = io::FieldReader;

std::unique_ptr<Callback> make_one(const std::string& name, const Fields& f, const std::filesystem::path& output) {
  if (name == "EarlyStopping") {
    EarlyStoppingOptions o;
    o.monitor = f.get("monitor", o.monitor, "a log name");
    o.min_delta = f.get("min_delta", o.min_delta, "a number");
    o.patience = f.get("patience", o.patience, "an integer");
    o.verbose = f.get("verbose", o.verbose, "0 or 1");
    o.mode = f.get("mode", o.mode, "\"auto\", \"min\" or \"max\"");
    o.baseline = f.optional("baseline");
    o.restore_best_weights = f.get("restore_best_weights", o.restore_best_weights, "true or false");
    o.start_from_epoch = f.get("start_from_epoch", o.start_from_epoch, "an integer");
    return std::make_unique<EarlyStopping>(o);
  }
  if (name == "ModelCheckpoint") {
    ModelCheckpointOptions o;
    const auto filepath = f.get<std::string>("filepath", "", "a path");
    if (filepath.empty()) throw ConfigError(f.in + ": field 'filepath' is required");
    o.monitor = f.get("monitor", o.monitor, "a log name");
    o.verbose = f.get("verbose", o.verbose, "0 or 1");
    o.save_best_only = f.get("save_best_only", o.save_best_only, "true or false");
    o.save_weights_only = f.get("save_weights_only", o.save_weights_only, "true or false");
    o.mode = f.get("mode", o.mode, "\"auto\", \"min\" or \"max\"");
    f.read.insert("save_freq");
    if (f.cfg.contains("save_freq") && f.cfg["save_freq"].is_number_integer())
      o.save_freq = f.cfg["save_freq"].get<int64_t>();
    else
      o.save_freq = f.get<std::string>("save_freq", "epoch", "\"epoch\" or a batch count");
    o.initial_value_threshold = f.optional("initial_value_threshold");
    return std::make_unique<ModelCheckpoint>((output / filepath).string(), o);
  }
  if (name == "ReduceLROnPlateau") {
    ReduceLROnPlateauOptions o;
    o.monitor = f.get("monitor", o.monitor, "a log name");
    o.factor = f.get("factor", o.factor, "a number");
    o.patience = f.get("patience", o.patience, "an integer");
    o.verbose = f.get("verbose", o.verbose, "0 or 1");
    o.mode = f.get("mode", o.mode, "\"auto\", \"min\" or \"max\"");
    o.min_delta = f.get("min_delta", o.min_delta, "a number");
    o.cooldown = f.get("cooldown", o.cooldown, "an integer");
    o.min_lr = f.get("min_lr", o.min_lr, "a number");
    return std::make_unique<ReduceLROnPlateau>(o);
  }
  if (name == "TerminateOnNaN") return std::make_unique<TerminateOnNaN>(f.get("raise_error", false, "true or false"));
  throw ConfigError(f.in + ": unknown callback; a recipe takes EarlyStopping, ModelCheckpoint, ReduceLROnPlateau and "
                            "TerminateOnNaN");
}

}  // namespace

std::vector<std::unique_ptr<Callback>> make_callbacks(const nlohmann::json& list, const std::filesystem::path& output,
                                                      const std::string& where) {
  if (!list.is_array()) throw ConfigError(where + ": field 'callbacks' must be a list, received " + list.dump());
  std::vector<std::unique_ptr<Callback>> out;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string at = where + " callbacks[" + std::to_string(i) + "]";
    const auto name = io::get_as<std::string>(list[i], "class_name", at, "a callback name such as \"EarlyStopping\"");
    const nlohmann::json cfg = list[i].contains("config") ? list[i]["config"] : nlohmann::json::object();
    if (!cfg.is_object()) throw ConfigError(at + " (" + name + "): field 'config' must be an object");
    const Fields fields{cfg, at + " (" + name + ")"};
    out.push_back(make_one(name, fields, output));
    fields.check_all_read();
  }
  return out;
}

nlohmann::json early_stopping_config(int patience) {
  return {{"class_name", "EarlyStopping"},
          {"config", {{"monitor", "val_loss"}, {"patience", patience}, {"restore_best_weights", true}, {"verbose", 1}}}};
}

nlohmann::json checkpoint_best_config() {
  return {{"class_name", "ModelCheckpoint"},
          {"config", {{"filepath", "best"}, {"monitor", "val_accuracy"}, {"save_best_only", true}, {"verbose", 1}}}};
}

}  // namespace kiln::cli
