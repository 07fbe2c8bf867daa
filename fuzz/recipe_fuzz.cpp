// kiln train's --recipe file: read and resolved, then its model, optimizer (with its schedule)
// and callbacks made as kiln train makes them for Fashion-MNIST.
#include "fuzz_support.hpp"
#include "train_callbacks.hpp"
#include "train_recipe.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kiln;
  static const fuzz::ScratchDir output;
  const fuzz::MemFile file(fuzz::bytes(data, size));
  fuzz::refused_or_read([&] {
    cli::TrainArgs args;
    args.recipe_file = file.path().string();
    cli::TrainRecipe recipe = cli::resolve_recipe(args);
    cli::build_model(recipe, {28, 28, 1}, 10, "fashion-mnist");
    cli::build_optimizer(recipe, 1719);
    cli::make_callbacks(recipe.callbacks, output.path(), "fuzz recipe");
  });
  return 0;
}
