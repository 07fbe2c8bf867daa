// The callbacks a training recipe lists, in Keras's serialized form
// ({"class_name": "EarlyStopping", "config": {"patience": 3}}), and those kiln train's flags add.
#pragma once

#include <filesystem>
#include <kiln/kiln.hpp>
#include <memory>
#include <vector>

namespace kiln::cli {

// EarlyStopping, ModelCheckpoint (its filepath relative to the run's output folder),
// ReduceLROnPlateau and TerminateOnNaN with Keras's config keys; ConfigError naming `where`,
// the callback and the field for anything else.
std::vector<std::unique_ptr<Callback>> make_callbacks(const nlohmann::json& list, const std::filesystem::path& output,
                                                      const std::string& where);

// --early-stopping PATIENCE: stop when val_loss has not improved for PATIENCE epochs, ending on
// the best epoch's weights.
nlohmann::json early_stopping_config(int patience);
// --checkpoint-best: the model of the epoch with the best val_accuracy, in OUTPUT/best.
nlohmann::json checkpoint_best_config();

}  // namespace kiln::cli
