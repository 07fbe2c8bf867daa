// The toolkit's optimizers where PyTorch has no equivalent (Lion, Keras's clipping, decoupled
// decay on every optimizer): Keras's documented formulas worked out here in double; and their
// configs as Keras writes them.
#include <cmath>

#include "helpers.hpp"

namespace kiln {
namespace {

std::vector<float> steps_of(Optimizer& opt, std::vector<float> w, const std::vector<std::vector<float>>& grads) {
  opt.build(static_cast<int64_t>(w.size()));
  for (const auto& g : grads) opt.apply(w.data(), g.data(), static_cast<int64_t>(w.size()));
  return w;
}

const std::vector<std::vector<float>> kGrads = {{0.5f, -1.0f, 0.0f, 2.0f}, {-0.25f, -1.0f, 0.0f, 0.1f},
                                                {1.0f, 0.5f, 0.0f, -3.0f}, {0.0f, 0.0f, 0.0f, 0.0f}};
const std::vector<float> kW0 = {1.0f, -0.5f, 0.25f, 2.0f};

TEST(OptimizerToolkit, LionFollowsKerasFormula) {
  const double lr = 0.01, b1 = 0.9, b2 = 0.99, wd = 0.1;
  std::vector<double> w(kW0.begin(), kW0.end()), m(w.size(), 0.0);
  for (const auto& g : kGrads)
    for (size_t i = 0; i < w.size(); ++i) {
      w[i] -= w[i] * wd * lr;
      const double c = b1 * m[i] + (1 - b1) * g[i];
      w[i] -= lr * ((c > 0) - (c < 0));
      m[i] = b2 * m[i] + (1 - b2) * g[i];
    }
  optimizers::Lion lion({.learning_rate = lr, .weight_decay = wd});
  const auto got = steps_of(lion, kW0, kGrads);
  for (size_t i = 0; i < w.size(); ++i) EXPECT_NEAR(got[i], w[i], 1e-6) << i;
  // A zero gradient from a zero momentum takes no step (sign(0) = 0) but still decays.
  EXPECT_NEAR(got[2], 0.25 * std::pow(1 - wd * lr, 4), 1e-7);
}

TEST(OptimizerToolkit, NadamFollowsKerasFormula) {
  // Keras 3's Nadam: mu_t = beta_1 (1 - 0.5 * 0.96^t), P_t = mu_1 ... mu_t, and the momentum
  // term divided by 1 - P_t mu_{t+1}.
  const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-7;
  auto mu = [&](int t) { return b1 * (1 - 0.5 * std::pow(0.96, t)); };
  std::vector<double> w(kW0.begin(), kW0.end()), m(w.size(), 0.0), v(w.size(), 0.0);
  double product = 1;
  for (int t = 1; t <= static_cast<int>(kGrads.size()); ++t) {
    product *= mu(t);
    for (size_t i = 0; i < w.size(); ++i) {
      const double g = kGrads[t - 1][i];
      m[i] += (g - m[i]) * (1 - b1);
      v[i] += (g * g - v[i]) * (1 - b2);
      const double m_hat = mu(t + 1) * m[i] / (1 - product * mu(t + 1)) + (1 - mu(t)) * g / (1 - product);
      w[i] -= lr * m_hat / (std::sqrt(v[i] / (1 - std::pow(b2, t))) + eps);
    }
  }
  optimizers::Nadam nadam({.learning_rate = lr});
  const auto got = steps_of(nadam, kW0, kGrads);
  for (size_t i = 0; i < w.size(); ++i) EXPECT_NEAR(got[i], w[i], 1e-6) << i;
}

TEST(OptimizerToolkit, WeightDecayComesBeforeEveryOptimizersOwnStep) {
  // Keras decays w -= w * weight_decay * lr, then applies the rule to the decayed weights.
  const double lr = 0.01, wd = 0.2, rho = 0.9, eps = 1e-7;
  std::vector<double> w(kW0.begin(), kW0.end()), v(w.size(), 0.0);
  for (const auto& g : kGrads)
    for (size_t i = 0; i < w.size(); ++i) {
      w[i] -= w[i] * wd * lr;
      v[i] = rho * v[i] + (1 - rho) * g[i] * g[i];
      w[i] -= lr * g[i] / std::sqrt(v[i] + eps);
    }
  optimizers::RMSprop rmsprop({.learning_rate = lr, .weight_decay = wd});
  const auto got = steps_of(rmsprop, kW0, kGrads);
  for (size_t i = 0; i < w.size(); ++i) EXPECT_NEAR(got[i], w[i], 1e-6) << i;
}

// SGD at rate 1 on two weights of 2 elements each: each step's change is minus the clipped
// gradient.
std::vector<float> sgd_change(const OptimizerCommon& c, const std::vector<float>& g) {
  optimizers::SGD sgd({.learning_rate = 1.0, .clipnorm = c.clipnorm, .clipvalue = c.clipvalue,
                       .global_clipnorm = c.global_clipnorm});
  std::vector<float> w(4, 0.0f);
  const WeightRange ranges[] = {{0, 2}, {2, 2}};
  sgd.build(4);
  sgd.apply(w.data(), g.data(), ranges);
  for (auto& x : w) x = -x;
  return w;
}

TEST(OptimizerToolkit, ClipnormClipsEachWeightOnItsOwn) {
  const std::vector<float> g = {3.0f, 4.0f, 0.3f, 0.4f};  // norms 5 and 0.5
  const auto got = sgd_change({.clipnorm = 1.0}, g);
  EXPECT_NEAR(got[0], 0.6, 1e-6);  // 3 * 1 / 5
  EXPECT_NEAR(got[1], 0.8, 1e-6);
  EXPECT_NEAR(got[2], 0.3, 1e-7);  // under the norm: unchanged
  EXPECT_NEAR(got[3], 0.4, 1e-7);
  EXPECT_EQ(g[0], 3.0f);  // the caller's gradient is read only
}

TEST(OptimizerToolkit, GlobalClipnormScalesAllWeightsTogether) {
  const std::vector<float> g = {3.0f, 4.0f, 0.0f, 12.0f};  // joint norm 13
  const auto got = sgd_change({.global_clipnorm = 2.6}, g);
  for (size_t i = 0; i < g.size(); ++i) EXPECT_NEAR(got[i], g[i] * 0.2, 1e-6) << i;
  const auto under = sgd_change({.global_clipnorm = 20.0}, g);
  for (size_t i = 0; i < g.size(); ++i) EXPECT_NEAR(under[i], g[i], 1e-6) << i;
  // A non-finite norm makes every gradient NaN, as in Keras (TerminateOnNaN then sees it).
  const auto nan = sgd_change({.global_clipnorm = 1.0}, {1.0f, INFINITY, 0.0f, 1.0f});
  for (float x : nan) EXPECT_TRUE(std::isnan(x));
}

TEST(OptimizerToolkit, ClipvalueClipsElements) {
  const auto got = sgd_change({.clipvalue = 0.5}, {3.0f, -4.0f, 0.25f, -0.5f});
  EXPECT_EQ(got, (std::vector<float>{0.5f, -0.5f, 0.25f, -0.5f}));
}

TEST(OptimizerToolkit, ClipnormInFitClipsEachLayersWeightsSeparately) {
  // One step of SGD at rate 1 with a tiny clipnorm moves every kernel and bias by exactly
  // clipnorm: the engine hands the optimizer one range per weight.
  Sequential model({layers::Dense({.units = 5, .activation = "relu", .input_shape = {6}}),
                    layers::Dense({.units = 3, .activation = "softmax"})});
  model.compile({.optimizer = optimizers::SGD({.learning_rate = 1.0, .clipnorm = 1e-3})});
  const auto before = model.get_weights();
  Tensor x = testing::random_tensor({8, 6}, 3);
  model.fit(x, Labels(std::vector<int32_t>{0, 1, 2, 0, 1, 2, 0, 1}), {.batch_size = 8, .verbose = 0});
  const auto after = model.get_weights();
  ASSERT_EQ(after.size(), 4u);
  for (size_t k = 0; k < after.size(); ++k) {
    double sum = 0;
    for (int64_t i = 0; i < after[k].size(); ++i) sum += std::pow(after[k][i] - before[k][i], 2);
    EXPECT_NEAR(std::sqrt(sum), 1e-3, 1e-6) << "weight " << k;
  }
}

TEST(OptimizerToolkit, OnlyOneClipAndPositiveValues) {
  try {
    optimizers::Adam({.clipnorm = 1.0, .clipvalue = 0.5});
    FAIL() << "no error";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("Only one of clipnorm, clipvalue and global_clipnorm"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("global_clipnorm=None"), std::string::npos) << e.what();
  }
  EXPECT_THROW(optimizers::RMSprop({.global_clipnorm = 0.0}), ValueError);
  EXPECT_THROW(optimizers::Lion({.beta_1 = 0.0}), ValueError);
  EXPECT_THROW(optimizers::RMSprop({.rho = 1.0}), ValueError);
  EXPECT_THROW(optimizers::Adagrad({.initial_accumulator_value = -1}), ValueError);
  EXPECT_THROW(optimizers::Nadam({.beta_2 = -0.1}), ValueError);
}

TEST(OptimizerToolkit, EveryOptimizerReadsItsOwnConfigBack) {
  const std::vector<std::shared_ptr<Optimizer>> all = {
      std::make_shared<optimizers::SGD>(optimizers::SGDOptions{.momentum = 0.9, .nesterov = true, .clipnorm = 1.0}),
      std::make_shared<optimizers::Adam>(optimizers::AdamOptions{.amsgrad = true, .global_clipnorm = 2.0}),
      std::make_shared<optimizers::AdamW>(),
      std::make_shared<optimizers::RMSprop>(optimizers::RMSpropOptions{.momentum = 0.5, .centered = true, .clipvalue = 0.1}),
      std::make_shared<optimizers::Adagrad>(optimizers::AdagradOptions{.initial_accumulator_value = 0.5}),
      std::make_shared<optimizers::Adamax>(optimizers::AdamaxOptions{.beta_2 = 0.99}),
      std::make_shared<optimizers::Nadam>(optimizers::NadamOptions{.epsilon = 1e-6, .use_ema = true}),
      std::make_shared<optimizers::Lion>(optimizers::LionOptions{.learning_rate = 1e-4, .weight_decay = 0.01})};
  for (const auto& opt : all) {
    SCOPED_TRACE(opt->class_name());
    const nlohmann::json spec = {{"class_name", opt->class_name()}, {"config", opt->config()}};
    const auto back = optimizers::get(spec);
    EXPECT_EQ(back->class_name(), opt->class_name());
    EXPECT_EQ(back->config(), opt->config());
    for (const char* key : {"clipnorm", "clipvalue", "global_clipnorm", "weight_decay", "use_ema"})
      EXPECT_TRUE(opt->config().contains(key)) << key;
  }
  EXPECT_EQ(optimizers::AdamW().config()["weight_decay"], 0.004);
  EXPECT_EQ(optimizers::get("Nadam")->class_name(), "Nadam");
}

TEST(OptimizerToolkit, ReadsAConfigAsKerasWritesIt) {
  // Keras 3's AdamW.get_config(), nulls and the keys kiln does not use included.
  const auto spec = nlohmann::json::parse(R"({"module": "keras.optimizers", "class_name": "AdamW",
      "config": {"name": "adamw", "learning_rate": 0.002, "weight_decay": 0.01, "clipnorm": null,
      "global_clipnorm": 1.5, "clipvalue": null, "use_ema": false, "ema_momentum": 0.99,
      "ema_overwrite_frequency": null, "loss_scale_factor": null, "gradient_accumulation_steps": null,
      "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": false}, "registered_name": null})");
  const auto opt = optimizers::get(spec);
  EXPECT_EQ(opt->class_name(), "AdamW");
  EXPECT_DOUBLE_EQ(opt->learning_rate(), 0.002);
  EXPECT_EQ(opt->common().global_clipnorm, 1.5);
  EXPECT_FALSE(opt->common().clipnorm);
  EXPECT_DOUBLE_EQ(opt->weight_decay(), 0.01);
  try {
    optimizers::get("adamm");
    FAIL() << "no error";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("\"lion\""), std::string::npos) << e.what();
  }
  EXPECT_THROW(optimizers::get(nlohmann::json::parse(R"({"class_name": "Lion", "config": {"clipnorm": "big"}})")),
               ConfigError);
}

}  // namespace
}  // namespace kiln
