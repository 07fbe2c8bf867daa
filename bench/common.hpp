// Shared by kiln's benchmark programs: the seed model, the data, timing, and the one-line JSON
// result format that bench/report.py reads ({"workload": ..., "seconds": [...]}).
#pragma once

#include <chrono>
#include <cstdio>
#include <kiln/kiln.hpp>
#include <string>
#include <vector>

namespace kiln::bench {

// The tutorial's split of the training images: the first 5,000 for validation, the rest to
// train on, kept as uint8 (scaled batch by batch, as kiln train feeds them).
struct TutorialSplit {
  ByteTensor x_train, y_train, x_valid, y_valid;
};
inline TutorialSplit tutorial_split(const datasets::Split& train) {
  return {train.images.slice(5000, 60000), train.labels.slice(5000, 60000), train.images.slice(0, 5000),
          train.labels.slice(0, 5000)};
}

inline Sequential seed_model() {
  return Sequential({layers::Flatten({28, 28}), layers::Dense(300, "relu"), layers::Dense(100, "relu"),
                     layers::Dense(10, "softmax")});
}

// Seconds taken by fn().
template <typename Fn>
double time_it(Fn&& fn) {
  auto t = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// One matrix product of a seed-MLP training step at its real shape: C (M,N) = op(A) (M,K) . op(B) (K,N).
struct Product {
  const char* name;
  bool trans_a, trans_b;
  int64_t M, N, K;
  double flops() const { return 2.0 * M * N * K; }
};

// The eight products of one step at batch 32 (forward, weight gradients, input gradients; the
// first layer's input gradient is never needed).
inline std::vector<Product> seed_step_products() {
  return {
      {"dense fwd 32x784 . 784x300", false, false, 32, 300, 784},
      {"dense_1 fwd 32x300 . 300x100", false, false, 32, 100, 300},
      {"dense_2 fwd 32x100 . 100x10", false, false, 32, 10, 100},
      {"dense dW 784x32 . 32x300", true, false, 784, 300, 32},
      {"dense_1 dW 300x32 . 32x100", true, false, 300, 100, 32},
      {"dense_2 dW 100x32 . 32x10", true, false, 100, 10, 32},
      {"dense_1 dX 32x100 . 100x300", false, true, 32, 300, 100},
      {"dense_2 dX 32x10 . 10x100", false, true, 32, 100, 10},
  };
}

inline void report(const std::string& workload, const std::vector<double>& seconds, const std::string& extra = "") {
  std::printf("{\"workload\": \"%s\", \"seconds\": [", workload.c_str());
  for (size_t i = 0; i < seconds.size(); ++i) std::printf("%s%.9g", i ? ", " : "", seconds[i]);
  std::printf("]%s}\n", extra.c_str());
  std::fflush(stdout);
}

// Times each product (seconds per call, `repeats` samples of `loops` calls) with run(product),
// and reports each and the whole step as "gemm <name>" rows, prefixed by `engine` if given.
template <typename Run>
void report_products(const std::string& engine, int repeats, Run&& run) {
  const int loops = 2000;
  std::vector<double> step(repeats, 0.0);
  double flops_step = 0;
  for (const Product& p : seed_step_products()) {
    auto call = run(p);  // prepares the operands once; call() does one product
    std::vector<double> seconds;
    for (int r = 0; r < repeats; ++r) {
      double t = time_it([&] {
                   for (int i = 0; i < loops; ++i) call();
                 }) / loops;
      seconds.push_back(t);
      step[r] += t;
    }
    flops_step += p.flops();
    report(engine + "gemm " + p.name, seconds, ", \"flops\": " + std::to_string(p.flops()));
  }
  report(engine + "gemm seed step (all 8)", step, ", \"flops\": " + std::to_string(flops_step));
}

// Repeats, threads and precision from the command line: PROGRAM [repeats] [threads] [bf16|fp32]
// (threads 0: all cores; bench_cnn reads a fourth, the network). With bf16, models are built with the mixed_bfloat16 policy and the
// workloads are named "... (bf16)".
struct Args {
  int repeats = 5;
  int threads = 0;
  bool bf16 = false;
  Args(int argc, char** argv) {
    if (argc > 1) repeats = std::atoi(argv[1]);
    if (argc > 2) threads = std::atoi(argv[2]);
    if (argc > 3) bf16 = std::string(argv[3]) == "bf16";
    if (threads > 0) set_num_threads(threads);
    if (bf16) mixed_precision::set_global_policy("mixed_bfloat16");
  }
  std::string name(const std::string& workload) const { return bf16 ? workload + " (bf16)" : workload; }
  // An epoch's row name: with an explicit thread count it says so ("train_epoch (1 thread)"),
  // so that the harness can show the scaling.
  std::string epoch_name(const std::string& workload) const {
    if (threads <= 0) return name(workload);
    return name(workload + " (" + std::to_string(threads) + " thread" + (threads > 1 ? "s)" : ")"));
  }
};

}  // namespace kiln::bench
