// kiln tune's SPACE.json: the base recipe, the tuner and its settings, and the hyperparameters
// to search; and a trial's recipe, the base with the trial's values set in it.
#pragma once

#include <kiln/kiln.hpp>
#include <string>

#include "train_recipe.hpp"

namespace kiln::cli {

struct TuneSpace {
  TrainRecipe recipe;
  std::string objective = "val_accuracy";
  std::string tuner = "random";  // or "hyperband"
  int max_trials = 10;           // random
  int max_epochs = 0;            // hyperband; 0: the recipe's epochs
  int factor = 3, hyperband_iterations = 1;
  uint64_t seed = 42;  // default: the recipe's seed
  tuner::HyperParameters hyperparameters;
};

// Reads SPACE.json; ConfigError naming the file and the field for anything it cannot use.
TuneSpace read_tune_space(const std::string& path);

// The base recipe with the trial's values: epochs, batch_size, warmup_epochs, schedule and
// optimizer (its class) set those fields, any other name the optimizer's Keras argument.
TrainRecipe trial_recipe(const TrainRecipe& base, const tuner::HyperParameters& hp);

}  // namespace kiln::cli
