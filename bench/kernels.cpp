// The matrix products of one seed-MLP training step at their real shapes, with GFLOP/s and the
// share of the chip's measured FMA peak; and that peak itself (a register-only FMA loop).
#include <thread>

#include "common.hpp"
#include "kernels/cpu/gemm.hpp"
#include "kernels/cpu/thread_pool.hpp"

namespace {

using namespace kiln;

// FLOP/s of independent FMA chains in registers: the most the cores can do, per thread.
__attribute__((target("avx2,fma"))) double fma_peak_one_thread() {
  typedef float v8 __attribute__((vector_size(32)));
  v8 acc[10] = {};
  v8 a = {1.0001f, 1.0001f, 1.0001f, 1.0001f, 1.0001f, 1.0001f, 1.0001f, 1.0001f}, b = a * 0.5f;
  const long iters = 20'000'000;
  double s = bench::time_it([&] {
    for (long i = 0; i < iters; ++i)
      for (auto& x : acc) x = x * a + b;
  });
  volatile float sink = acc[0][0] + acc[9][7];
  (void)sink;
  return 10.0 * 8 * 2 * iters / s;
}

double fma_peak(int threads) {
  std::vector<double> per(threads);
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) ts.emplace_back([&, t] { per[t] = fma_peak_one_thread(); });
  for (auto& t : ts) t.join();
  double sum = 0;
  for (double p : per) sum += p;
  return sum;
}

struct Shape3 {
  const char* name;
  bool ta, tb;
  int64_t M, N, K;
};

}  // namespace

int main(int argc, char** argv) {
  bench::Args args(argc, argv);
  const int threads = num_threads();
  double peak = 0;
  for (int r = 0; r < 3; ++r) peak = std::max(peak, fma_peak(threads));
  std::printf("{\"workload\": \"fma_peak\", \"gflops\": %.1f, \"threads\": %d, \"isa\": \"%s\"}\n", peak / 1e9, threads,
              cpu::isa_name(cpu::best_isa()));
  const Shape3 shapes[] = {
      {"dense fwd 32x784 . 784x300", false, false, 32, 300, 784},
      {"dense_1 fwd 32x300 . 300x100", false, false, 32, 100, 300},
      {"dense_2 fwd 32x100 . 100x10", false, false, 32, 10, 100},
      {"dense dW 784x32 . 32x300", true, false, 784, 300, 32},
      {"dense_1 dW 300x32 . 32x100", true, false, 300, 100, 32},
      {"dense_2 dW 100x32 . 32x10", true, false, 100, 10, 32},
      {"dense_1 dX 32x100 . 100x300", false, true, 32, 300, 100},
      {"dense_2 dX 32x10 . 10x100", false, true, 32, 100, 10},
  };
  std::vector<double> step(args.repeats, 0.0);
  double flops_step = 0;
  for (const auto& s : shapes) {
    Tensor A({s.M * s.K}), B({s.K * s.N}), C({s.M * s.N});
    for (auto& v : A.values()) v = 0.5f;
    for (auto& v : B.values()) v = 0.25f;
    int64_t lda = s.ta ? s.M : s.K, ldb = s.tb ? s.K : s.N;
    const int loops = 2000;
    std::vector<double> seconds;
    for (int r = 0; r < args.repeats; ++r) {
      double t = bench::time_it([&] {
                   for (int i = 0; i < loops; ++i)
                     cpu::gemm(s.ta, s.tb, s.M, s.N, s.K, A.data(), lda, B.data(), ldb, 0.0f, C.data(), s.N);
                 }) / loops;
      seconds.push_back(t);
      step[r] += t;
    }
    double flops = 2.0 * s.M * s.N * s.K;
    flops_step += flops;
    bench::report(std::string("gemm ") + s.name, seconds, ", \"flops\": " + std::to_string(flops));
  }
  bench::report("gemm seed step (all 8)", step, ", \"flops\": " + std::to_string(flops_step));
}
