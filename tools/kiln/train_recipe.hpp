// A training run as data. `kiln train` resolves its flags, a --recipe file and the chosen
// architecture's defaults (in that order of precedence) into a TrainRecipe, writes it as
// recipe.json beside the model, and reads such a file back with --recipe, so that any run can be
// repeated exactly: the file holds the architecture itself, not only its name.
#pragma once

#include <kiln/kiln.hpp>
#include <array>
#include <optional>
#include <string>
#include <vector>

namespace kiln::cli {

// What the command line gave; unset fields come from the recipe file or the defaults.
struct TrainArgs {
  std::optional<std::string> recipe_file, dataset, model, precision, optimizer, schedule;
  std::optional<std::string> image_size, color_mode, interpolation;  // a folder dataset's: "HxW", ...
  std::optional<int> epochs, warmup_epochs;
  std::optional<int64_t> batch_size, validation_size;
  std::optional<double> label_smoothing;  // sets the loss: CategoricalCrossentropy on the integer labels
  std::optional<double> learning_rate, momentum, weight_decay, clipnorm, clipvalue, global_clipnorm, ema_momentum;
  std::optional<bool> nesterov, use_ema;
  std::optional<int> early_stopping;      // patience
  bool checkpoint_best = false;
  std::string cache = "memory";           // a folder dataset's cache: memory, none or a file
  std::optional<std::string> backup_dir;  // where the run keeps its BackupAndRestore backup
  std::vector<std::string> optimizer_args;  // KEY=VALUE, VALUE read as JSON where it parses
  std::optional<uint64_t> seed;
  std::string output;
  int threads = 0, verbose = 1;
  double mpi_timeout = 300;  // under mpirun: how long a process waits for the others
  int64_t bucket_bytes = 1 << 20;  // under mpirun: the gradient sums' bucket size
};

// The schedules --schedule names, each worked out from the base rate and the run's length.
inline const char* kScheduleNames = "constant, cosine, linear, exponential, inverse_time, step, cosine_restarts";

struct TrainRecipe {
  std::string dataset = "fashion-mnist";  // a built-in dataset's name, or a folder of images
  // A folder's images: size (height, width) and colour mode, unset until read off the first
  // image; the resize method.
  std::optional<std::array<int64_t, 2>> image_size;
  std::string color_mode;
  std::string interpolation = "bilinear";
  int64_t validation_size = 5000;
  uint64_t seed = 42;
  std::string model = "mlp";                  // a built-in architecture's name, or the file it came from
  nlohmann::json architecture;                // the model's config.json form; null until the model is built
  std::optional<std::string> precision;       // fp32 or bf16; unset: as the architecture says
  int epochs = 30;
  int64_t batch_size = 32;
  nlohmann::json optimizer;                   // Keras's serialized optimizer, every argument written out
  std::string schedule = "constant";          // applied to the optimizer's learning_rate (see kScheduleNames)
  int warmup_epochs = 0;                      // with "cosine": a straight rise from 0 first
  nlohmann::json loss = "sparse_categorical_crossentropy";
  std::vector<std::string> metrics = {"accuracy"};
  nlohmann::json callbacks = nlohmann::json::array();  // Keras's serialized form (train_callbacks.hpp)

  nlohmann::ordered_json to_json() const;
};

// The run the arguments describe. Throws ConfigError for a recipe file it cannot read (naming
// the file and the field) and ValueError for arguments that do not fit together.
TrainRecipe resolve_recipe(const TrainArgs& args);
// The same for a recipe already read (`where` names it in errors): kiln tune's inline recipes.
TrainRecipe resolve_recipe(const TrainArgs& args, const nlohmann::json& recipe, const std::string& where);

// The recipe's dataset: a built-in one by name, or a folder of images read with the recipe's
// settings (those left unset are read off the first image and filled in).
datasets::Dataset load_dataset(TrainRecipe& recipe);

// The recipe's model for a dataset's per-sample image shape and class count; fills
// recipe.architecture from it.
Model build_model(TrainRecipe& recipe, const Shape& input, int64_t classes, const std::string& dataset);

// The recipe's optimizer, its learning rate scheduled over `steps_per_epoch` * epochs steps.
OptimizerRef build_optimizer(const TrainRecipe& recipe, int64_t steps_per_epoch);

}  // namespace kiln::cli
