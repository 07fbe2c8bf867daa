// Step times of data-parallel training: the seed MLP or the CNN (kiln train's recipes) trained
// for a number of global batches, alone or across the processes mpirun started, with the time
// the same number of steps on each.
// bench/scaling.sh runs it in every configuration docs/scaling.md reports.
// Usage: bench_scaling MODEL BATCH STEPS BUCKET_BYTES|alone THREADS
#include <chrono>
#include <cstdio>
#include <string>

#include "kiln/distribute_mpi.hpp"
#include "kiln/kiln.hpp"
#include "recipes.hpp"

using namespace kiln;

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: %s mlp|cnn BATCH STEPS BUCKET_BYTES|alone THREADS\n", argv[0]);
    return 2;
  }
  const std::string name = argv[1], mode = argv[4];
  set_num_threads(std::stoi(argv[5]));
  const int64_t batch = std::stoll(argv[2]), steps = std::stoll(argv[3]);
  auto [train, test] = datasets::fashion_mnist::load_data();
  const ByteTensor x = train.images.slice(0, batch * steps);
  const Labels y(train.labels.slice(0, batch * steps));
  utils::set_random_seed(1);
  Model model = cli::recipe_model(name, {28, 28}, 10);
  model.compile({.optimizer = name == "mlp" ? "sgd" : "adam", .metrics = {"accuracy"}});
  model.preprocessing.rescale = 1.0 / 255;
  std::shared_ptr<distribute::MultiWorkerMirroredStrategy> strategy;
  if (mode != "alone") strategy = distribute::mpi_strategy({.bucket_bytes = std::stoll(mode)});
  FitOptions options{.epochs = 1, .batch_size = batch, .verbose = 0, .seed = 2, .distribute = strategy};
  model.fit(x.slice(0, batch * 4), y.slice(0, batch * 4), options);  // warm-up: plans, pages, caches
  const auto start = std::chrono::steady_clock::now();
  model.fit(x, y, options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!strategy || strategy->is_chief())
    std::printf("%s batch %lld, %lld steps, %s: %.1f us/step\n", name.c_str(), static_cast<long long>(batch),
                static_cast<long long>(steps), mode.c_str(), 1e6 * seconds / static_cast<double>(steps));
  return 0;
}
