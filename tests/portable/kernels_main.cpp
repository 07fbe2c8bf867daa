// Run by scripts/check-aarch64.sh on AArch64 (under QEMU), where only the baseline kernels
// exist: the GEMM (float32 and bf16, with and without the epilogue, on two threads) against the
// reference, the pixel conversion against its formula, and softmax's exponential against
// std::exp. Exits 1 if anything is wrong.
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "kernels/cpu/convert.hpp"
#include "kernels/cpu/exp.hpp"
#include "kernels/cpu/gemm.hpp"
#include "kernels/cpu/thread_pool.hpp"
using namespace kiln;
int main() {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-1, 1);
  int bad = 0, cases = 0;
  struct C {
    bool ta, tb;
    int M, N, K;
  } cs[] = {{false, false, 32, 300, 784}, {true, false, 784, 300, 32},
            {false, true, 32, 300, 100},  {false, false, 7, 13, 5},
            {true, true, 9, 33, 17},      {false, false, 1000, 30, 600}};
  std::printf("isa %s, %d threads\n", cpu::isa_name(cpu::best_isa()),
              cpu::ThreadPool::global().size());
  for (auto c : cs)
    for (auto prec : {cpu::Precision::kFloat32, cpu::Precision::kBfloat16})
      for (int mode = 0; mode < 2; ++mode) {
        std::vector<float> A(c.M * c.K), B(c.K * c.N), X(c.M * c.N), R, bias(c.N);
        for (auto* v : {&A, &B, &X, &bias})
          for (auto& x : *v) x = u(rng);
        R = X;
        cpu::Epilogue e{mode ? bias.data() : nullptr, mode == 1};
        float beta = mode ? 0.0f : 1.0f;
        int lda = c.ta ? c.M : c.K, ldb = c.tb ? c.K : c.N;
        cpu::gemm(c.ta, c.tb, c.M, c.N, c.K, 0.5f, A.data(), lda, B.data(), ldb, beta, X.data(),
                  c.N, prec, e);
        cpu::gemm_reference(c.ta, c.tb, c.M, c.N, c.K, 0.5f, A.data(), lda, B.data(), ldb, beta,
                            R.data(), c.N, prec, e);
        double worst = 0;
        for (size_t i = 0; i < X.size(); ++i)
          worst = std::max(worst, (double)std::fabs(X[i] - R[i]));
        ++cases;
        if (worst > 1e-4 * std::sqrt((double)c.K)) {
          ++bad;
          std::printf("bad: M=%d N=%d K=%d prec=%d mode=%d worst=%g\n", c.M, c.N, c.K, (int)prec,
                      mode, worst);
        }
      }
  std::vector<uint8_t> px(1000);
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>(i * 7);
  std::vector<float> f(px.size());
  cpu::scale_bytes(px.data(), px.size(), 1.0 / 255, f.data());
  int converted_wrong = 0;
  for (size_t i = 0; i < px.size(); ++i)
    converted_wrong += f[i] != static_cast<float>(px[i] * (1.0 / 255));
  std::vector<float> x;
  for (float v = 0.0f; v > -87.0f; v -= 1.0f / 64) x.push_back(v);
  std::vector<float> y = x;
  cpu::exp_nonpositive(y.data(), y.size());
  int exp_wrong = 0;
  for (size_t i = 0; i < x.size(); ++i)
    exp_wrong += std::fabs(y[i] - std::exp(x[i])) > 3e-7f * std::exp(x[i]);
  std::printf("%d of %d GEMM cases wrong; %d of %zu pixels converted wrong; %d of %zu exponentials"
              " wrong\n",
              bad, cases, converted_wrong, px.size(), exp_wrong, x.size());
  return bad + converted_wrong + exp_wrong != 0;
}
