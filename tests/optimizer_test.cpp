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
  plain.apply(w, g, 2);
  EXPECT_FLOAT_EQ(w[0], 0.95f);
  EXPECT_FLOAT_EQ(w[1], -2.1f);

  float m[1] = {1.0f}, gm[1] = {1.0f};
  optimizers::SGD momentum({.learning_rate = 0.1, .momentum = 0.9});
  momentum.build(1);
  momentum.apply(m, gm, 1);  // v = -0.1, w = 0.9
  momentum.apply(m, gm, 1);  // v = -0.09 - 0.1 = -0.19, w = 0.71
  EXPECT_NEAR(m[0], 0.71f, 1e-6);

  float n[1] = {1.0f};
  optimizers::SGD nesterov({.learning_rate = 0.1, .momentum = 0.9, .nesterov = true});
  nesterov.build(1);
  nesterov.apply(n, gm, 1);  // v = -0.1, w += 0.9 * -0.1 - 0.1 = -0.19
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

// One strictness for every config field: a value of the wrong type is a ConfigError naming the
// field and quoting the value, never a silent default ("nesterov": "yes" used to become false).
TEST(Optimizers, MistypedConfigFieldsAreConfigErrorsNamingTheField) {
  auto error_for = [](const nlohmann::json& spec, auto get) {
    try {
      get(spec);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no ConfigError");
  };
  auto optimizer = [](const nlohmann::json& j) { optimizers::get(j); };
  auto loss = [](const nlohmann::json& j) { losses::get(j); };
  std::string nesterov = error_for({{"class_name", "SGD"}, {"config", {{"nesterov", "yes"}}}}, optimizer);
  EXPECT_NE(nesterov.find("field 'nesterov' must be true or false, received \"yes\""), std::string::npos) << nesterov;
  std::string beta = error_for({{"class_name", "Adam"}, {"config", {{"beta_1", {0.9}}}}}, optimizer);
  EXPECT_NE(beta.find("field 'beta_1' must be a number, received [0.9]"), std::string::npos) << beta;
  std::string name = error_for({{"class_name", 3}}, optimizer);
  EXPECT_NE(name.find("field 'class_name' must be"), std::string::npos) << name;
  std::string cfg = error_for({{"class_name", "SGD"}, {"config", "fast"}}, optimizer);
  EXPECT_NE(cfg.find("field 'config' must be an object, received \"fast\""), std::string::npos) << cfg;
  std::string logits =
      error_for({{"class_name", "SparseCategoricalCrossentropy"}, {"config", {{"from_logits", 1}}}}, loss);
  EXPECT_NE(logits.find("field 'from_logits' must be true or false, received 1"), std::string::npos) << logits;
  EXPECT_TRUE(optimizers::get(nlohmann::json{{"class_name", "SGD"}, {"config", {{"nesterov", true}, {"momentum", 0.5}}}})
                  ->config()["nesterov"]);
}

}  // namespace
}  // namespace kiln
