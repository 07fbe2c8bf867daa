// kiln tune's SPACE.json: read, then a trial's recipe drawn from the space and its model built.
#include "fuzz_support.hpp"
#include "train_recipe.hpp"
#include "tune_space.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kiln;
  const fuzz::MemFile file(fuzz::bytes(data, size));
  fuzz::refused_or_read([&] {
    const cli::TuneSpace space = cli::read_tune_space(file.path().string());
    const auto& hp = space.hyperparameters;
    cli::TrainRecipe trial = cli::trial_recipe(space.recipe, tuner::HyperParameters(hp.space(), hp.random_values(1)));
    cli::build_model(trial, {28, 28, 1}, 10, "fashion-mnist");
  });
  return 0;
}
