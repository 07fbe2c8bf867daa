// The matrix products of one seed-MLP training step at their real shapes, with GFLOP/s and the
// share of the chip's measured FMA peak; and that peak itself (a register-only FMA loop).
#include <thread>

#include "common.hpp"
#include "kernels/cpu/gemm.hpp"
#include "kernels/cpu/thread_pool.hpp"

namespace {

using namespace kiln;

// FLOP/s of independent FMA chains in registers: the most the cores can do, per thread, with the
// widest vectors the CPU has (16 floats on AVX-512, 8 on AVX2; the bf16 tile's vdpbf16ps does
// twice that). Each chain starts from its own value, or the compiler would see that they are all
// equal and compute just one (it did, and that one dependent chain was reported as a peak of
// ten). Twelve chains cover the FMA latency on two pipes; the results are used so that none can
// be dropped. The same body is compiled for each instruction set (a macro: GCC drops vector_size
// from a typedef that depends on a template argument).
#define KILN_FMA_PEAK(NAME, TARGET, FLOATS)                                                           \
  TARGET double NAME() {                                                                              \
    typedef float vec __attribute__((vector_size(FLOATS * sizeof(float))));                            \
    constexpr int kChains = 12;                                                                       \
    vec acc[kChains];                                                                                 \
    for (int i = 0; i < kChains; ++i) acc[i] = vec{} + 0.001f * static_cast<float>(i + 1);            \
    vec a = vec{} + 0.9999f, b = vec{} + 1e-4f;                                                       \
    const long iters = 20'000'000;                                                                    \
    auto start = std::chrono::steady_clock::now(); /* not time_it: a lambda would not get TARGET */   \
    for (long i = 0; i < iters; ++i)                                                                  \
      for (auto& x : acc) x = x * a + b; /* one fused multiply-add (a vfmadd on x86-64) */            \
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();       \
    float sum = 0;                                                                                    \
    for (const auto& x : acc) sum += x[0] + x[FLOATS - 1];                                            \
    volatile float sink = sum;                                                                        \
    (void)sink;                                                                                       \
    return 2.0 * FLOATS * kChains * iters / s;                                                        \
  }

#if KILN_X86_64
KILN_FMA_PEAK(fma_peak_avx2, __attribute__((target("avx2,fma"))), 8)
KILN_FMA_PEAK(fma_peak_avx512, __attribute__((target("avx512f"))), 16)
double fma_peak_one_thread() { return __builtin_cpu_supports("avx512f") ? fma_peak_avx512() : fma_peak_avx2(); }
#else
KILN_FMA_PEAK(fma_peak_one_thread, , 4)
#endif

double fma_peak(int threads) {
  std::vector<double> per(threads);
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) ts.emplace_back([&, t] { per[t] = fma_peak_one_thread(); });
  for (auto& t : ts) t.join();
  double sum = 0;
  for (double p : per) sum += p;
  return sum;
}

}  // namespace

int main(int argc, char** argv) {
  bench::Args args(argc, argv);
  const int threads = num_threads();
  double peak = 0;
  for (int r = 0; r < 3; ++r) peak = std::max(peak, fma_peak(threads));
  std::printf("{\"workload\": \"fma_peak\", \"gflops\": %.1f, \"threads\": %d, \"isa\": \"%s\"}\n",
              peak / 1e9, threads, cpu::isa_name(cpu::best_isa()));
  // The same products in float32 and with bf16 operands ("bf16 gemm ..." rows).
  for (auto precision : {cpu::Precision::kFloat32, cpu::Precision::kBfloat16})
    bench::report_products(precision == cpu::Precision::kBfloat16 ? "bf16 " : "", args.repeats,
                           [precision](const bench::Product& p) {
                             auto A = std::make_shared<Tensor>(Shape{p.M * p.K});
                             auto B = std::make_shared<Tensor>(Shape{p.K * p.N});
                             auto C = std::make_shared<Tensor>(Shape{p.M * p.N});
                             for (auto& v : A->values()) v = 0.5f;
                             for (auto& v : B->values()) v = 0.25f;
                             int64_t lda = p.trans_a ? p.M : p.K, ldb = p.trans_b ? p.K : p.N;
                             return [=] {
                               cpu::gemm(p.trans_a, p.trans_b, p.M, p.N, p.K, 1.0f, A->data(), lda,
                                         B->data(), ldb, 0.0f, C->data(), p.N, precision);
                             };
                           });
}
