// One training epoch of the seed MLP (55,000 images, batch 32, SGD 0.01) plus the 5,000-image
// validation pass, as kiln train runs it.
#include "common.hpp"

int main(int argc, char** argv) {
  using namespace kiln;
  bench::Args args(argc, argv);
  auto [train, test] = datasets::fashion_mnist::load_data();
  // uint8 images scaled batch by batch, as kiln train feeds them.
  ByteTensor x_valid = train.images.slice(0, 5000), x_train = train.images.slice(5000, 60000);
  ByteTensor y_valid = train.labels.slice(0, 5000), y_train = train.labels.slice(5000, 60000);
  utils::set_random_seed(42);
  Sequential model = bench::seed_model();
  model.preprocessing.rescale = 1.0 / 255.0;
  model.compile({.optimizer = "sgd", .metrics = {"accuracy"}});
  std::vector<double> seconds;
  for (int r = 0; r < args.repeats; ++r)
    seconds.push_back(bench::time_it([&] {
      model.fit(x_train, y_train, {.epochs = 1, .validation_data = ValidationData{x_valid, y_valid}, .verbose = 0});
    }));
  // With an explicit thread count the row is named for it, so the harness can show scaling.
  bench::report(args.name(args.threads > 0 ? "train_epoch (" + std::to_string(args.threads) + " thread" +
                                                 (args.threads > 1 ? "s)" : ")")
                                           : "train_epoch"),
                seconds);
}
