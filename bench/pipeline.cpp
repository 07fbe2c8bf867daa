// The input pipeline against the in-memory path, on a folder of images in the train/ and test/
// layout `kiln datasets export` writes (Fashion-MNIST's 70,000 PNGs in docs/performance.md).
// Usage: bench_pipeline DIR [epochs] [seed] [prefetch]   (prefetch: batches ahead, default AUTOTUNE)
//   1. decoding alone: one pass of the training files through the pipeline (no model), images/s
//      on 1 and on 2 background threads;
//   2. the seed MLP trained for `epochs` on the images loaded into memory first
//      (image_dataset_from_directory), then through the pipeline that decodes them while the
//      model trains (cached in memory after the first epoch, as kiln train does): each epoch's
//      time in its training steps, the share of it spent waiting for data, and the test accuracy;
//   3. the same pipeline without the cache: every epoch decodes the files again (a folder larger
//      than memory).
// Both runs shuffle with the same seed, so they see the same batches in the same order.
#include <algorithm>
#include <filesystem>

#include "common.hpp"

namespace fs = std::filesystem;
using namespace kiln;

namespace {

struct Epochs : Callback {
  std::vector<double> train, wait;
  void on_epoch_end(int, const Logs&) override {
    train.push_back(fit_state()->train_seconds);
    wait.push_back(fit_state()->data_wait_seconds);
  }
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

datasets::ImageFolderOptions options(uint32_t seed, bool shuffle) {
  return {.color_mode = "grayscale", .image_size = {28, 28}, .shuffle = shuffle, .seed = seed, .verbose = false};
}

Sequential compiled_model(uint64_t seed) {
  utils::set_random_seed(seed);
  Sequential model({layers::Flatten({28, 28, 1}), layers::Dense(300, "relu"), layers::Dense(100, "relu"),
                    layers::Dense(10, "softmax")});
  model.compile({.loss = "sparse_categorical_crossentropy", .optimizer = "sgd", .metrics = {"accuracy"}});
  model.preprocessing.rescale = 1.0 / 255;
  return model;
}

void report(const char* name, const Epochs& e, double seconds, double accuracy) {
  std::vector<double> share;
  for (size_t i = 0; i < e.train.size(); ++i) share.push_back(100 * e.wait[i] / e.train[i]);
  std::vector<double> later(e.train.begin() + 1, e.train.end()), later_share(share.begin() + 1, share.end());
  std::printf("%-9s epoch 1: %.2f s (%.1f%% waiting); epochs 2+: median %.3f s, min %.3f s, waiting median %.1f%% "
              "max %.1f%%; whole run %.1f s; test accuracy %.4f\n",
              name, e.train[0], share[0], median(later), *std::min_element(later.begin(), later.end()),
              median(later_share), *std::max_element(later_share.begin(), later_share.end()), seconds, accuracy);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_pipeline DIR [epochs] [seed]\n");
    return 2;
  }
  const fs::path dir = argv[1];
  const int epochs = argc > 2 ? std::atoi(argv[2]) : 30;
  const auto seed = static_cast<uint32_t>(argc > 3 ? std::atoi(argv[3]) : 42);
  const int64_t ahead = argc > 4 ? std::atoi(argv[4]) : data::AUTOTUNE;

  datasets::ImageFiles files = datasets::list_image_files(dir / "train", options(seed, true));
  for (int threads : {1, 2}) {
    if (argc > 4) break;
    data::Dataset ds = datasets::image_files_dataset(files, options(seed, true)).batch(32).prefetch(8, threads);
    int64_t n = 0;
    const double s = bench::time_it([&] {
      data::Iterator it = ds.iterate();
      data::Batch b;
      while (it.next(b)) n += b.size();
    });
    std::printf("decoding alone, %d thread%s: %lld images in %.2f s, %.0f images/s\n", threads, threads > 1 ? "s" : "",
                static_cast<long long>(n), s, static_cast<double>(n) / s);
  }

  const int64_t valid = 5000, n = static_cast<int64_t>(files.paths.size());
  {
    Epochs e;
    Sequential model = compiled_model(seed);
    Logs test;
    const double s = bench::time_it([&] {
      datasets::ImageFolder train = datasets::image_dataset_from_directory(dir / "train", options(seed, true));
      model.fit(Inputs(train.images.slice(valid, n)), train.labels.slice(valid, n),
                {.epochs = epochs, .validation_data = ValidationData(Inputs(train.images.slice(0, valid)), train.labels.slice(0, valid)),
                 .verbose = 0, .seed = seed, .callbacks = {&e}});
      datasets::ImageFolder t = datasets::image_dataset_from_directory(dir / "test", options(seed, false));
      test = model.evaluate(Inputs(t.images), t.labels, {.verbose = 0});
    });
    report("in memory", e, s, test.at("accuracy"));
  }
  for (bool cached : {true, false}) {
    Epochs e;
    Sequential model = compiled_model(seed);
    Logs test;
    auto cache = [cached](data::Dataset ds) { return cached ? ds.cache() : ds; };
    const double s = bench::time_it([&] {
      auto part = [&](int64_t begin, int64_t end) {
        return datasets::ImageFiles{{files.paths.begin() + begin, files.paths.begin() + end},
                                    {files.labels.begin() + begin, files.labels.begin() + end},
                                    files.class_names};
      };
      data::Dataset train = cache(datasets::image_files_dataset(part(valid, n), options(seed, true))).shuffle(n - valid).batch(32).prefetch(ahead);
      data::Dataset val = cache(datasets::image_files_dataset(part(0, valid), options(seed, true))).batch(32).prefetch(ahead);
      model.fit(train, {.epochs = epochs, .validation_data = val, .verbose = 0, .seed = seed, .callbacks = {&e}});
      test = model.evaluate(datasets::image_pipeline_from_directory(dir / "test", options(seed, false)).batch(32).prefetch(),
                            {.verbose = 0});
    });
    report(cached ? "pipeline" : "streamed", e, s, test.at("accuracy"));
  }
}
