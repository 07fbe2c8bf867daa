// Inference with the seed MLP: latency of one image (batch 1) and seconds per image at batch 1000.
#include "common.hpp"

int main(int argc, char** argv) {
  using namespace kiln;
  bench::Args args(argc, argv);
  auto [train, test] = datasets::fashion_mnist::load_data();
  utils::set_random_seed(42);
  Sequential model = bench::seed_model();
  for (int64_t n : {1, 1000}) {
    Tensor x = test.images.slice(0, n).astype<float>() / 255.0f;
    const int loops = n == 1 ? 20000 : 100;
    for (int i = 0; i < loops / 10; ++i) model.predict(x, {.batch_size = n});
    std::vector<double> seconds;
    for (int r = 0; r < args.repeats; ++r)
      seconds.push_back(bench::time_it([&] {
                          for (int i = 0; i < loops; ++i) model.predict(x, {.batch_size = n});
                        }) / loops);
    bench::report(args.name(n == 1 ? "predict_1" : "predict_1000"), seconds);
  }
}
