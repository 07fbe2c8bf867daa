// Every instruction set the CPU supports against the plain triple loop, on the seed model's
// shapes and ragged ones, in all four transpose combinations, overwriting and accumulating, scaled
// and not, in float32 and in bfloat16 (operands rounded to bf16, sums in float32).
#include "kernels/cpu/gemm.hpp"

#include <bit>
#include <cmath>
#include <limits>

#include "helpers.hpp"
#include "kernels/cpu/bf16.hpp"
#include "kernels/cpu/window.hpp"

namespace kiln {
namespace {

using cpu::Precision;

struct Case {
  bool ta, tb;
  int64_t M, N, K;
};

const char* precision_name(Precision p) { return p == Precision::kBfloat16 ? "bf16" : "float32"; }

void check_every_isa(Precision precision) {
  const Case cases[] = {{false, false, 32, 300, 784},
                        {true, false, 784, 300, 32},
                        {false, true, 32, 784, 300},
                        {false, false, 1, 1, 1},
                        {false, false, 7, 13, 5},
                        {true, true, 9, 33, 17},
                        {false, true, 17, 65, 600},
                        {true, false, 3, 10, 1030},
                        {false, false, 50, 10, 100},
                        // right edges 4, 8 and 12 columns wide (read in place in float32)
                        {false, false, 9, 100, 33},
                        {true, false, 13, 24, 7},
                        {false, false, 6, 28, 3},
                        // odd depths in every layout, and a depth pass ending on an odd pair
                        {true, true, 5, 7, 3},
                        {false, true, 11, 9, 1},
                        {true, false, 2, 40, 513},
                        // tall A: B packed whole first (in every layout, with ragged edges, a
                        // transposed B at any depth, a row-major one in two depth passes)
                        {false, false, 520, 37, 530},
                        {false, true, 520, 44, 70},
                        {true, false, 530, 20, 140},
                        {true, true, 600, 9, 13}};
  // alpha, beta, and the epilogue: none, bias, ReLU, or both (applied once, after the last of
  // several depth passes when K > 512).
  struct Mode {
    float alpha, beta;
    bool bias, relu;
  };
  const Mode modes[] = {{1.0f, 0.0f, false, false}, {1.0f, 1.0f, false, false},
                        {-0.25f, 1.0f, false, false}, {2.0f, 0.0f, false, false},
                        {1.0f, 0.0f, true, true},  {-0.25f, 1.0f, true, false},
                        {2.0f, 0.0f, false, true}};
  for (auto isa : cpu::supported_isas())
    for (const auto& c : cases)
      for (auto [alpha, beta, with_bias, relu] : modes) {
        Tensor A = testing::random_tensor({c.M * c.K}, 1),
               B = testing::random_tensor({c.K * c.N}, 2);
        Tensor C = testing::random_tensor({c.M * c.N}, 3), R = C.clone();
        Tensor bias = testing::random_tensor({c.N}, 4);
        cpu::Epilogue epilogue{with_bias ? bias.data() : nullptr, relu};
        int64_t lda = c.ta ? c.M : c.K, ldb = c.tb ? c.K : c.N;
        cpu::gemm_with(isa, c.ta, c.tb, c.M, c.N, c.K, alpha, A.data(), lda, B.data(), ldb, beta,
                       C.data(), c.N, precision, epilogue);
        cpu::gemm_reference(c.ta, c.tb, c.M, c.N, c.K, alpha, A.data(), lda, B.data(), ldb, beta,
                            R.data(), c.N, precision, epilogue);
        double worst = 0;
        for (int64_t i = 0; i < C.size(); ++i)
          worst = std::max(worst, double(std::abs(C[i] - R[i])));
        EXPECT_LT(worst, 1e-5 * std::sqrt(double(c.K)) * 4)
            << precision_name(precision) << " " << cpu::isa_name(isa) << " ta=" << c.ta
            << " tb=" << c.tb << " M=" << c.M << " N=" << c.N << " K=" << c.K << " alpha=" << alpha
            << " beta=" << beta << " bias=" << with_bias << " relu=" << relu;
      }
}

TEST(Gemm, EverySupportedIsaMatchesTheReference) { check_every_isa(Precision::kFloat32); }

TEST(Gemm, Bf16EverySupportedIsaMatchesTheRoundedReference) {
  check_every_isa(Precision::kBfloat16);
}

// A training batch and an inference batch (whose B is packed whole, the threads sharing that).
TEST(Gemm, ResultDoesNotDependOnTheThreadCount) {
  for (int64_t M : {32, 1000}) {
    Tensor A = testing::random_tensor({M * 784}, 4), B = testing::random_tensor({784 * 300}, 5);
    for (Precision precision : {Precision::kFloat32, Precision::kBfloat16}) {
      Tensor one({M * 300}), two({M * 300});
      set_num_threads(1);
      cpu::gemm(false, false, M, 300, 784, 1.0f, A.data(), 784, B.data(), 300, 0.0f, one.data(),
                300, precision);
      set_num_threads(2);
      cpu::gemm(false, false, M, 300, 784, 1.0f, A.data(), 784, B.data(), 300, 0.0f, two.data(),
                300, precision);
      EXPECT_EQ(0, std::memcmp(one.data(), two.data(), sizeof(float) * one.size()))
          << precision_name(precision) << " M=" << M;
    }
  }
}

// A convolution's windows read from the image (implicit GEMM) against the reference on the
// im2col matrix: kernel rows of 3 to 192 values, strides, a dilated row step, ragged columns, a
// depth over one pass (K = 576), a batch whose rows span images, the epilogue.
TEST(Gemm, WindowsReadInPlaceMatchTheIm2colProduct) {
  struct WindowCase {
    int64_t B, H, W, C, KH, KW, SH, SW, DH, N;
  };
  const WindowCase cases[] = {{3, 28, 28, 1, 3, 3, 1, 1, 1, 32}, {2, 13, 13, 32, 3, 3, 1, 1, 1, 64},
                              {2, 9, 11, 3, 5, 5, 2, 2, 1, 13},  {1, 10, 8, 4, 3, 2, 1, 3, 2, 40},
                              {2, 7, 7, 64, 3, 3, 1, 1, 1, 24},  {5, 4, 4, 2, 4, 4, 1, 1, 1, 7}};
  for (const auto& c : cases) {
    const cpu::Window w = cpu::make_window(c.H, c.W, c.C, c.KH, c.KW, c.SH, c.SW, c.DH, 1, false);
    ASSERT_TRUE(w.readable_in_place());
    const int64_t M = c.B * w.OH * w.OW, K = w.depth();
    Tensor x = testing::random_tensor({c.B * w.input_size()}, 6), B = testing::random_tensor({K * c.N}, 7);
    Tensor bias = testing::random_tensor({c.N}, 8), scale = testing::random_tensor({c.N}, 9);
    Tensor col({M * K}), want({M * c.N}), got({M * c.N});
    cpu::im2col(col.data(), x.data(), w, c.B);
    const cpu::Epilogue epilogue{bias.data(), true, scale.data()};
    cpu::gemm_reference(false, false, M, c.N, K, 1.0f, col.data(), K, B.data(), c.N, 0.0f, want.data(), c.N,
                        Precision::kFloat32, epilogue);
    for (auto isa : cpu::supported_isas()) {
      cpu::gemm_windows_with(isa, w.windows(x.data()), M, c.N, B.data(), c.N, got.data(), c.N, epilogue);
      for (int64_t i = 0; i < got.size(); ++i)
        ASSERT_NEAR(got[i], want[i], 1e-4f * (1.0f + std::abs(want[i])))
            << cpu::isa_name(isa) << " case H=" << c.H << " C=" << c.C << " KH=" << c.KH << " at " << i;
    }
  }
}

TEST(Window, PaddedOrOverhangingWindowsAreNotReadInPlace) {
  EXPECT_FALSE(cpu::make_window(8, 8, 2, 3, 3, 1, 1, 1, 1, true).readable_in_place());   // pads 1 all round
  EXPECT_FALSE(cpu::make_window(8, 8, 2, 2, 2, 1, 1, 1, 1, true).readable_in_place());   // pads the bottom only
  EXPECT_FALSE(cpu::make_window(8, 8, 2, 3, 3, 1, 1, 1, 2, false).readable_in_place());  // dilated columns
  EXPECT_TRUE(cpu::make_window(8, 8, 2, 1, 1, 1, 1, 1, 1, true).readable_in_place());
}

// bf16 keeps 8 significant bits: the rounded product differs from the float32 one by about
// 2^-8 relative per operand, far more than float32's own rounding, and no more than that.
TEST(Gemm, Bf16RoundsBothOperands) {
  const int64_t M = 16, N = 48, K = 300;
  Tensor A = testing::random_tensor({M * K}, 6), B = testing::random_tensor({K * N}, 7);
  Tensor C({M * N}), exact({M * N});
  cpu::gemm(false, false, M, N, K, 1.0f, A.data(), K, B.data(), N, 0.0f, C.data(), N,
            Precision::kBfloat16);
  cpu::gemm_reference(false, false, M, N, K, 1.0f, A.data(), K, B.data(), N, 0.0f, exact.data(), N);
  double worst = 0;
  for (int64_t i = 0; i < C.size(); ++i) worst = std::max(worst, double(std::abs(C[i] - exact[i])));
  EXPECT_GT(worst, 1e-3);
  EXPECT_LT(worst, 0.1);
}

TEST(Bf16, RoundsToNearestEven) {
  auto bits = [](uint32_t u) { return cpu::bf16_bits(std::bit_cast<float>(u)); };
  EXPECT_EQ(bits(0x3f800000u), 0x3f80);  // 1.0
  EXPECT_EQ(bits(0x3f807fffu), 0x3f80);  // below half way: down
  EXPECT_EQ(bits(0x3f808000u), 0x3f80);  // half way, even below: down
  EXPECT_EQ(bits(0x3f818000u), 0x3f82);  // half way, odd below: up
  EXPECT_EQ(bits(0x3f808001u), 0x3f81);  // above half way: up
  EXPECT_EQ(bits(0xbf808001u), 0xbf81);  // the same for negatives
  EXPECT_EQ(bits(0x7f7fffffu), 0x7f80);  // the largest float rounds to infinity
  EXPECT_EQ(bits(0x7f800000u), 0x7f80);  // infinity stays infinity
  EXPECT_EQ(bits(0xff800000u), 0xff80);
  EXPECT_TRUE(std::isnan(cpu::round_to_bf16(std::numeric_limits<float>::quiet_NaN())));
  EXPECT_TRUE(std::isnan(
      cpu::round_to_bf16(std::bit_cast<float>(0x7f800001u))));  // a NaN that would round to inf
}

// The kernels round as they pack, without branches; a 1x1x1 product times 1 shows each value.
TEST(Bf16, EveryIsaRoundsAsTheReference) {
  const uint32_t values[] = {0x3f800000u, 0x3f807fffu, 0x3f808000u, 0x3f818000u,
                             0x3f808001u, 0xbf808001u, 0x7f7fffffu, 0x7f800000u,
                             0xff800000u, 0x40490fdbu, 0x00000000u};
  for (auto isa : cpu::supported_isas())
    for (uint32_t u : values) {
      float a = std::bit_cast<float>(u), one = 1.0f, c = 0.0f;
      cpu::gemm_with(isa, false, false, 1, 1, 1, 1.0f, &a, 1, &one, 1, 0.0f, &c, 1,
                     Precision::kBfloat16);
      EXPECT_EQ(std::bit_cast<uint32_t>(c), std::bit_cast<uint32_t>(cpu::round_to_bf16(a)))
          << cpu::isa_name(isa) << " input 0x" << std::hex << u;
    }
  for (auto isa : cpu::supported_isas()) {
    float a = std::bit_cast<float>(0x7f800001u), one = 1.0f, c = 0.0f;
    cpu::gemm_with(isa, false, false, 1, 1, 1, 1.0f, &a, 1, &one, 1, 0.0f, &c, 1,
                   Precision::kBfloat16);
    EXPECT_TRUE(std::isnan(c)) << cpu::isa_name(isa);
  }
}

}  // namespace
}  // namespace kiln
