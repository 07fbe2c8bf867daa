// The vectorized exponential that softmax uses, on every instruction set the CPU supports,
// against std::exp, and softmax built on it against a double-precision reference.
#include "kernels/cpu/exp.hpp"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "helpers.hpp"
#include "kernels/cpu/activations.hpp"

namespace kiln {
namespace {

// Distance in units in the last place between two positive normal floats.
int64_t ulps(float a, float b) {
  return std::abs(int64_t{std::bit_cast<int32_t>(a)} - int64_t{std::bit_cast<int32_t>(b)});
}

TEST(ExpNonpositive, EveryIsaIsWithinTwoUlpOfStdExp) {
  std::vector<float> x;
  for (float v = 0.0f; v > -104.0f; v -= 1.0f / 4096) x.push_back(v);  // every 2^-12, to -104
  for (float v = -1e-30f; v > -0.5f; v *= 1.01f) x.push_back(v);       // tiny magnitudes
  for (auto isa : cpu::supported_isas()) {
    std::vector<float> y = x;
    cpu::exp_nonpositive_with(isa, y.data(), static_cast<int64_t>(y.size()));
    int64_t worst = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      float expected = std::exp(x[i]);
      if (expected < std::numeric_limits<float>::min()) {
        ASSERT_EQ(y[i], 0.0f) << cpu::isa_name(isa) << " x=" << x[i];
        continue;
      }
      worst = std::max(worst, ulps(y[i], expected));
      ASSERT_LE(ulps(y[i], expected), 2)
          << cpu::isa_name(isa) << " x=" << x[i] << " got " << y[i] << " expected " << expected;
    }
    EXPECT_GT(worst, 0) << "not an approximation? then std::exp would be as fast";
  }
}

TEST(ExpNonpositive, SpecialValuesAndTailsOnEveryIsa) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (auto isa : cpu::supported_isas()) {
    float v[] = {0.0f, -0.0f, -inf, nan, -87.3f, -87.4f, -200.0f, -1e-45f};
    cpu::exp_nonpositive_with(isa, v, std::size(v));
    EXPECT_EQ(v[0], 1.0f) << cpu::isa_name(isa);
    EXPECT_EQ(v[1], 1.0f) << cpu::isa_name(isa);
    EXPECT_EQ(v[2], 0.0f) << cpu::isa_name(isa);
    EXPECT_TRUE(std::isnan(v[3])) << cpu::isa_name(isa);
    EXPECT_GT(v[4], 0.0f) << cpu::isa_name(isa);
    EXPECT_EQ(v[5], 0.0f) << cpu::isa_name(isa);
    EXPECT_EQ(v[6], 0.0f) << cpu::isa_name(isa);
    EXPECT_EQ(v[7], 1.0f) << cpu::isa_name(isa);
    // Every length of tail, and nothing written past the end.
    for (int64_t n = 0; n <= 19; ++n) {
      std::vector<float> y(n + 1, -0.5f);
      y[n] = -42.0f;
      cpu::exp_nonpositive_with(isa, y.data(), n);
      for (int64_t i = 0; i < n; ++i) {
        EXPECT_EQ(y[i], y[0]) << cpu::isa_name(isa) << " n=" << n;
        EXPECT_NEAR(y[i], std::exp(-0.5f), 1e-7f) << cpu::isa_name(isa) << " n=" << n;
      }
      EXPECT_EQ(y[n], -42.0f) << "wrote past the end: " << cpu::isa_name(isa) << " n=" << n;
    }
  }
}

TEST(ExpNonpositive, SameBitsOnEveryIsa) {
  Tensor x = testing::random_tensor({1003}, 9);
  for (int64_t i = 0; i < x.size(); ++i) x[i] = -std::abs(x[i]) * 30.0f;
  Tensor baseline = x.clone();
  cpu::exp_nonpositive_with(cpu::Isa::kBaseline, baseline.data(), baseline.size());
  for (auto isa : cpu::supported_isas()) {
    Tensor y = x.clone();
    cpu::exp_nonpositive_with(isa, y.data(), y.size());
    EXPECT_EQ(0, std::memcmp(y.data(), baseline.data(), sizeof(float) * y.size()))
        << cpu::isa_name(isa);
  }
}

// The reference shifts each row by its maximum in float, as the kernel must (the shift's own
// rounding is not the exponential's), then exponentiates and normalizes in double.
TEST(Softmax, MatchesADoubleReference) {
  const int64_t B = 37, N = 10;
  Tensor z = testing::random_tensor({B * N}, 10), bias = testing::random_tensor({N}, 11);
  for (int64_t i = 0; i < z.size(); ++i) z[i] *= 20.0f;  // logits far apart: some underflow
  Tensor y = z.clone();
  cpu::bias_activation_forward(y.data(), bias.data(), cpu::Activation::kSoftmax, B, N);
  for (int64_t r = 0; r < B; ++r) {
    float shifted[N], mx = -std::numeric_limits<float>::infinity();
    for (int64_t j = 0; j < N; ++j) mx = std::max(mx, shifted[j] = z[r * N + j] + bias[j]);
    double sum = 0.0;
    for (int64_t j = 0; j < N; ++j) sum += std::exp(double(shifted[j] -= mx));
    for (int64_t j = 0; j < N; ++j) {
      double expected = std::exp(double(shifted[j])) / sum;
      if (expected < std::numeric_limits<float>::min()) continue;  // flushed to 0 or denormal
      EXPECT_NEAR(y[r * N + j], expected, 1e-6 * expected) << "row " << r << " col " << j;
    }
  }
}

}  // namespace
}  // namespace kiln
