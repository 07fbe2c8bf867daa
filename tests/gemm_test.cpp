// Every instruction set the CPU supports against the plain triple loop, on the seed model's
// shapes and ragged ones, in all four transpose combinations, overwriting and accumulating, scaled
// and not.
#include "helpers.hpp"
#include "kernels/cpu/gemm.hpp"

namespace kiln {
namespace {

struct Case {
  bool ta, tb;
  int64_t M, N, K;
};

TEST(Gemm, EverySupportedIsaMatchesTheReference) {
  const Case cases[] = {{false, false, 32, 300, 784}, {true, false, 784, 300, 32}, {false, true, 32, 784, 300},
                        {false, false, 1, 1, 1},      {false, false, 7, 13, 5},    {true, true, 9, 33, 17},
                        {false, true, 17, 65, 600},   {true, false, 3, 10, 1030},  {false, false, 50, 10, 100},
                        // right edges 4, 8 and 12 columns wide, read in place
                        {false, false, 9, 100, 33},   {true, false, 13, 24, 7},    {false, false, 6, 28, 3}};
  for (auto isa : cpu::supported_isas())
    for (const auto& c : cases)
      for (auto [alpha, beta] : {std::pair{1.0f, 0.0f}, {1.0f, 1.0f}, {-0.25f, 1.0f}, {2.0f, 0.0f}}) {
        Tensor A = testing::random_tensor({c.M * c.K}, 1), B = testing::random_tensor({c.K * c.N}, 2);
        Tensor C = testing::random_tensor({c.M * c.N}, 3), R = C.clone();
        int64_t lda = c.ta ? c.M : c.K, ldb = c.tb ? c.K : c.N;
        cpu::gemm_with(isa, c.ta, c.tb, c.M, c.N, c.K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), c.N);
        cpu::gemm_reference(c.ta, c.tb, c.M, c.N, c.K, alpha, A.data(), lda, B.data(), ldb, beta, R.data(), c.N);
        double worst = 0;
        for (int64_t i = 0; i < C.size(); ++i) worst = std::max(worst, double(std::abs(C[i] - R[i])));
        EXPECT_LT(worst, 1e-5 * std::sqrt(double(c.K)) * 4)
            << cpu::isa_name(isa) << " ta=" << c.ta << " tb=" << c.tb << " M=" << c.M << " N=" << c.N
            << " K=" << c.K << " alpha=" << alpha << " beta=" << beta;
      }
}

TEST(Gemm, ResultDoesNotDependOnTheThreadCount) {
  Tensor A = testing::random_tensor({32 * 784}, 4), B = testing::random_tensor({784 * 300}, 5);
  Tensor one({32 * 300}), two({32 * 300});
  set_num_threads(1);
  cpu::gemm(false, false, 32, 300, 784, 1.0f, A.data(), 784, B.data(), 300, 0.0f, one.data(), 300);
  set_num_threads(2);
  cpu::gemm(false, false, 32, 300, 784, 1.0f, A.data(), 784, B.data(), 300, 0.0f, two.data(), 300);
  EXPECT_EQ(0, std::memcmp(one.data(), two.data(), sizeof(float) * one.size()));
}

}  // namespace
}  // namespace kiln
