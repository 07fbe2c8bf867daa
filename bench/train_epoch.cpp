// One training epoch of the seed MLP (55,000 images, batch 32, SGD 0.01) plus the 5,000-image
// validation pass, as kiln train runs it.
#include "common.hpp"

int main(int argc, char** argv) {
  using namespace kiln;
  bench::Args args(argc, argv);
  auto [train, test] = datasets::fashion_mnist::load_data();
  auto [x_train, y_train, x_valid, y_valid] = bench::tutorial_split(train);
  utils::set_random_seed(42);
  Sequential model = bench::seed_model();
  model.preprocessing.rescale = 1.0 / 255.0;
  model.compile({.optimizer = "sgd", .metrics = {"accuracy"}});
  std::vector<double> seconds;
  for (int r = 0; r < args.repeats; ++r)
    seconds.push_back(bench::time_it([&] {
      model.fit(x_train, y_train, {.epochs = 1, .validation_data = ValidationData{x_valid, y_valid}, .verbose = 0});
    }));
  bench::report(args.epoch_name("train_epoch"), seconds);
}
