#include "helpers.hpp"

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
