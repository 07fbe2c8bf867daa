#include <cmath>
#include <cstring>

#include "helpers.hpp"
#include "kernels/cpu/optimizers.hpp"

namespace kiln {
namespace {

TEST(Optimizers, SgdUpdateRuleByHand) {
  // Keras: v = m v - lr g; w += v (nesterov: w += m v - lr g).
  float w[2] = {1.0f, -2.0f}, g[2] = {0.5f, 1.0f};
  optimizers::SGD plain({.learning_rate = 0.1});
  plain.build(2);
  plain.update(w, g, 2);
  EXPECT_FLOAT_EQ(w[0], 0.95f);
  EXPECT_FLOAT_EQ(w[1], -2.1f);

  float m[1] = {1.0f}, gm[1] = {1.0f};
  optimizers::SGD momentum({.learning_rate = 0.1, .momentum = 0.9});
  momentum.build(1);
  momentum.update(m, gm, 1);  // v = -0.1, w = 0.9
  momentum.update(m, gm, 1);  // v = -0.09 - 0.1 = -0.19, w = 0.71
  EXPECT_NEAR(m[0], 0.71f, 1e-6);

  float n[1] = {1.0f};
  optimizers::SGD nesterov({.learning_rate = 0.1, .momentum = 0.9, .nesterov = true});
  nesterov.build(1);
  nesterov.update(n, gm, 1);  // v = -0.1, w += 0.9 * -0.1 - 0.1 = -0.19
  EXPECT_NEAR(n[0], 0.81f, 1e-6);
}

TEST(Optimizers, AdamGivesTheSameBitsOnEveryIsaAsThePlainLoop) {
  // The vectorised update (square root and division on 8 lanes, no FMA) against the formula
  // written out element by element, over 20 steps and a length with a ragged tail.
  const int64_t n = 70001;
  Tensor w0 = testing::random_tensor({n}, 31, -0.1f, 0.1f);
  for (auto isa : cpu::supported_isas()) {
    Tensor w = w0.clone(), m({n}), v({n}), wr = w0.clone(), mr({n}), vr({n});
    for (int64_t t = 1; t <= 20; ++t) {
      Tensor g = testing::random_tensor({n}, 100 + static_cast<uint64_t>(t), -0.01f, 0.01f);
      cpu::adam_update_with(isa, w.data(), g.data(), m.data(), v.data(), n, 1e-3f, 0.9f, 0.999f,
                            1e-7f, t);
      double c1 = 1.0 - std::pow(0.9f, static_cast<double>(t));
      double c2 = 1.0 - std::pow(0.999f, static_cast<double>(t));
      float lr_t = static_cast<float>(1e-3f * std::sqrt(c2) / c1);
      for (int64_t i = 0; i < n; ++i) {
        mr[i] = 0.9f * mr[i] + (1.0f - 0.9f) * g[i];
        vr[i] = 0.999f * vr[i] + (1.0f - 0.999f) * g[i] * g[i];
        wr[i] -= lr_t * mr[i] / (std::sqrt(vr[i]) + 1e-7f);
      }
    }
    EXPECT_EQ(0, std::memcmp(w.data(), wr.data(), sizeof(float) * n)) << cpu::isa_name(isa);
    EXPECT_EQ(0, std::memcmp(v.data(), vr.data(), sizeof(float) * n)) << cpu::isa_name(isa);
  }
}

TEST(Optimizers, BadHyperparametersAndNamesAreRejected) {
  EXPECT_THROW(optimizers::SGD({.learning_rate = -1}), ValueError);
  EXPECT_THROW(optimizers::SGD({.momentum = 1.5}), ValueError);
  EXPECT_THROW(optimizers::Adam({.beta_1 = 1.0}), ValueError);
  EXPECT_THROW(optimizers::get("rmsprop_typo"), ValueError);
  auto sgd = optimizers::get(nlohmann::json{{"class_name", "SGD"}, {"config", {{"learning_rate", 0.5}, {"momentum", 0.9}}}});
  EXPECT_EQ(sgd->config()["learning_rate"], 0.5);
  EXPECT_EQ(sgd->config()["momentum"], 0.9);
  EXPECT_THROW(optimizers::get(nlohmann::json{{"class_name", "SGD"}, {"config", {{"learning_rate", "fast"}}}}),
               ConfigError);
}

}  // namespace
}  // namespace kiln
