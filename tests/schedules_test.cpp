#include <cmath>
#include <numbers>

#include "helpers.hpp"

namespace kiln {
namespace {

using namespace schedules;

// Expected values are Keras's documented formulas worked out by hand at chosen steps.
TEST(Schedules, ExponentialAndInverseTimeDecayFollowKerasFormulas) {
  ExponentialDecay smooth({.initial_learning_rate = 0.1, .decay_steps = 1000, .decay_rate = 0.96});
  EXPECT_DOUBLE_EQ(smooth(0), 0.1);
  EXPECT_DOUBLE_EQ(smooth(500), 0.1 * std::sqrt(0.96));
  ExponentialDecay stairs({.initial_learning_rate = 0.1, .decay_steps = 1000, .decay_rate = 0.96, .staircase = true});
  EXPECT_DOUBLE_EQ(stairs(999), 0.1);
  EXPECT_DOUBLE_EQ(stairs(1500), 0.096);
  InverseTimeDecay inverse({.initial_learning_rate = 0.1, .decay_steps = 1, .decay_rate = 0.5});
  EXPECT_DOUBLE_EQ(inverse(3), 0.04);
  InverseTimeDecay inverse_stairs({.initial_learning_rate = 0.1, .decay_steps = 2, .decay_rate = 0.5, .staircase = true});
  EXPECT_DOUBLE_EQ(inverse_stairs(3), 0.1 / 1.5);
}

TEST(Schedules, PiecewiseConstantDecayIncludesEachBoundaryInTheIntervalBelowIt) {
  PiecewiseConstantDecay piecewise({.boundaries = {100, 110}, .values = {1.0, 0.5, 0.1}});
  EXPECT_EQ(piecewise(0), 1.0);
  EXPECT_EQ(piecewise(100), 1.0);
  EXPECT_EQ(piecewise(101), 0.5);
  EXPECT_EQ(piecewise(110), 0.5);
  EXPECT_EQ(piecewise(111), 0.1);
}

TEST(Schedules, PolynomialDecayStopsAtTheEndRateOrCycles) {
  PolynomialDecay sqrt_decay({.initial_learning_rate = 0.1, .decay_steps = 10000, .end_learning_rate = 0.01, .power = 0.5});
  EXPECT_DOUBLE_EQ(sqrt_decay(2500), 0.09 * std::sqrt(0.75) + 0.01);
  EXPECT_DOUBLE_EQ(sqrt_decay(20000), 0.01);
  PolynomialDecay linear_cycle({.initial_learning_rate = 0.1, .decay_steps = 10000, .end_learning_rate = 0.01, .cycle = true});
  EXPECT_DOUBLE_EQ(linear_cycle(0), 0.1);
  EXPECT_DOUBLE_EQ(linear_cycle(15000), 0.0325);  // the period is 20000 steps there: 0.09 * 0.25 + 0.01
}

TEST(Schedules, CosineDecayWithAndWithoutWarmup) {
  CosineDecay cosine({.initial_learning_rate = 0.1, .decay_steps = 1000});
  EXPECT_DOUBLE_EQ(cosine(0), 0.1);
  EXPECT_DOUBLE_EQ(cosine(250), 0.05 * (1 + std::cos(std::numbers::pi / 4)));
  EXPECT_NEAR(cosine(500), 0.05, 1e-15);
  EXPECT_EQ(cosine(1000), 0.0);
  EXPECT_EQ(cosine(5000), 0.0);
  CosineDecay floor({.initial_learning_rate = 0.1, .decay_steps = 1000, .alpha = 0.1});
  EXPECT_DOUBLE_EQ(floor(2000), 0.01);
  CosineDecay warm({.initial_learning_rate = 0.0, .decay_steps = 1000, .warmup_target = 0.1, .warmup_steps = 100});
  EXPECT_DOUBLE_EQ(warm(50), 0.05);
  EXPECT_DOUBLE_EQ(warm(100), 0.1);
  EXPECT_NEAR(warm(600), 0.05, 1e-15);
  EXPECT_EQ(warm(5000), 0.0);
}

TEST(Schedules, CosineDecayRestartsLengthensAndLowersEachPeriod) {
  CosineDecayRestarts sgdr({.initial_learning_rate = 1.0, .first_decay_steps = 100, .m_mul = 0.5});
  EXPECT_DOUBLE_EQ(sgdr(0), 1.0);
  EXPECT_NEAR(sgdr(50), 0.5, 1e-15);
  EXPECT_DOUBLE_EQ(sgdr(100), 0.5);   // second period (200 steps) starts at half the rate
  EXPECT_NEAR(sgdr(200), 0.25, 1e-15);  // halfway through the second period
  EXPECT_DOUBLE_EQ(sgdr(300), 0.25);  // third period (400 steps) starts at a quarter
  CosineDecayRestarts even({.initial_learning_rate = 1.0, .first_decay_steps = 100, .t_mul = 1.0, .m_mul = 0.5});
  EXPECT_NEAR(even(150), 0.25, 1e-15);
}

TEST(Schedules, BadArgumentsAreValueErrorsNamingTheArgument) {
  auto message = [](auto make) {
    try {
      make();
    } catch (const ValueError& e) {
      return std::string(e.what());
    }
    return std::string("no ValueError");
  };
  EXPECT_EQ(message([] { CosineDecay({.initial_learning_rate = 0.1, .decay_steps = 0}); }),
            "CosineDecay decay_steps must be positive, received 0.000000");
  EXPECT_EQ(message([] { PiecewiseConstantDecay({.boundaries = {10, 20}, .values = {1.0, 0.5}}); }),
            "PiecewiseConstantDecay needs one more value than boundaries, received 2 boundaries and 2 values");
  EXPECT_EQ(message([] { PiecewiseConstantDecay({.boundaries = {20, 10}, .values = {1.0, 0.5, 0.1}}); }),
            "PiecewiseConstantDecay boundaries must increase, received [20.0,10.0]");
  EXPECT_EQ(message([] { CosineDecayRestarts({.initial_learning_rate = 1.0, .first_decay_steps = 10, .t_mul = 0}); }),
            "CosineDecayRestarts t_mul must be positive, received 0.000000");
}

// An optimizer reads its schedule at every step, on the step's count before the update, whether
// it applies the step itself or hands it to the layers (plain SGD's fused step).
TEST(Schedules, OptimizersTakeTheRateOfEachStepFromTheSchedule) {
  PiecewiseConstantDecay halves({.boundaries = {0, 1}, .values = {1.0, 0.5, 0.25}});
  optimizers::SGD sgd({.learning_rate = halves});
  sgd.build(1);
  float w[1] = {0.0f}, g[1] = {1.0f};
  for (float expected : {-1.0f, -1.5f, -1.75f, -2.0f}) {
    sgd.apply(w, g, 1);
    EXPECT_EQ(w[0], expected);
  }
  optimizers::SGD fused({.learning_rate = halves});
  EXPECT_EQ(fused.fused_step()->alpha, -1.0f);
  fused.count_fused_step();
  EXPECT_EQ(fused.fused_step()->alpha, -0.5f);
  EXPECT_EQ(fused.learning_rate(), 0.5);

  // Adam's first step moves each weight by the rate (bias-corrected m / sqrt(v) is 1).
  optimizers::Adam adam({.learning_rate = halves, .epsilon = 1e-12});
  adam.build(1);
  float a[1] = {0.0f};
  adam.apply(a, g, 1);
  adam.apply(a, g, 1);
  EXPECT_NEAR(a[0], -1.5f, 1e-5);
}

// Keras's decoupled weight decay: w -= w * weight_decay * learning_rate, before the update and at
// the step's scheduled rate; it turns plain SGD's fused step off (the layers would not decay).
TEST(Schedules, WeightDecayShrinksWeightsByTheStepsRate) {
  PiecewiseConstantDecay halves({.boundaries = {0}, .values = {1.0, 0.5}});
  optimizers::SGD sgd({.learning_rate = halves, .weight_decay = 0.1});
  EXPECT_FALSE(sgd.fused_step());
  sgd.build(1);
  float w[1] = {2.0f}, zero[1] = {0.0f}, one[1] = {1.0f};
  sgd.apply(w, zero, 1);  // 2 - 2 * 0.1 * 1
  EXPECT_FLOAT_EQ(w[0], 1.8f);
  sgd.apply(w, one, 1);  // 1.8 - 1.8 * 0.1 * 0.5 - 0.5
  EXPECT_FLOAT_EQ(w[0], 1.21f);
  EXPECT_EQ(sgd.config()["weight_decay"], 0.1);
  EXPECT_TRUE(optimizers::SGD().config()["weight_decay"].is_null());
  EXPECT_EQ(optimizers::get(nlohmann::json{{"class_name", "Adam"}, {"config", {{"weight_decay", 0.004}}}})->weight_decay(), 0.004);
  EXPECT_THROW(optimizers::Adam({.weight_decay = -1}), ValueError);
}

TEST(Schedules, TheRateCanBeSetUnlessAScheduleDrivesIt) {
  optimizers::Adam constant;
  constant.set_learning_rate(0.01);
  EXPECT_EQ(constant.learning_rate(), 0.01);
  EXPECT_EQ(constant.config()["learning_rate"], 0.01);
  EXPECT_THROW(constant.set_learning_rate(0.0), ValueError);
  optimizers::Adam scheduled({.learning_rate = CosineDecay({.initial_learning_rate = 0.1, .decay_steps = 10})});
  EXPECT_THROW(scheduled.set_learning_rate(0.01), ValueError);
}

// Keras 3 writes a schedule inside the optimizer's config as a serialized object; kiln reads that
// form and writes it back unchanged.
TEST(Schedules, SavedAsKerasSerializesThemAndReadBack) {
  const auto keras = nlohmann::json::parse(R"({"class_name": "Adam", "config": {"name": "adam",
      "learning_rate": {"module": "keras.optimizers.schedules", "class_name": "CosineDecay",
        "config": {"initial_learning_rate": 0.001, "decay_steps": 8600, "alpha": 0.0, "name": "CosineDecay",
                   "warmup_target": null, "warmup_steps": 0}, "registered_name": null},
      "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07}})");
  auto adam = optimizers::get(keras);
  EXPECT_EQ(adam->config()["learning_rate"], keras["config"]["learning_rate"]);
  EXPECT_DOUBLE_EQ(adam->learning_rate(), 0.001);

  const std::vector<std::shared_ptr<const LearningRateSchedule>> all = {
      std::make_shared<ExponentialDecay>(ExponentialDecayOptions{.initial_learning_rate = 0.1, .decay_steps = 100, .decay_rate = 0.5, .staircase = true}),
      std::make_shared<InverseTimeDecay>(InverseTimeDecayOptions{.initial_learning_rate = 0.1, .decay_steps = 10, .decay_rate = 2}),
      std::make_shared<PiecewiseConstantDecay>(PiecewiseConstantDecayOptions{.boundaries = {5, 9}, .values = {0.3, 0.2, 0.1}}),
      std::make_shared<PolynomialDecay>(PolynomialDecayOptions{.initial_learning_rate = 0.1, .decay_steps = 50, .power = 2, .cycle = true}),
      std::make_shared<CosineDecay>(CosineDecayOptions{.initial_learning_rate = 0.0, .decay_steps = 30, .alpha = 0.1, .warmup_target = 0.2,
                            .warmup_steps = 5}),
      std::make_shared<CosineDecayRestarts>(CosineDecayRestartsOptions{.initial_learning_rate = 0.1, .first_decay_steps = 7, .t_mul = 1.5, .m_mul = 0.9})};
  for (const auto& s : all) {
    auto back = deserialize(nlohmann::json::parse(serialize(*s).dump()), "test");
    EXPECT_EQ(serialize(*back), serialize(*s)) << s->class_name();
    for (int64_t step : {0, 3, 6, 12, 40, 200}) EXPECT_EQ((*back)(step), (*s)(step)) << s->class_name() << " " << step;
  }
}

TEST(Schedules, ASavedModelKeepsItsOptimizersSchedule) {
  testing::TempDir dir;
  Sequential model({layers::Dense({.units = 2, .input_shape = {3}})});
  model.compile({.optimizer = optimizers::Adam({.learning_rate = CosineDecay({.initial_learning_rate = 0.002, .decay_steps = 500})})});
  model.save(dir.path());
  auto config = nlohmann::json::parse(io::read_file(dir / "config.json"));
  EXPECT_EQ(config["compile_config"]["optimizer"]["config"]["learning_rate"]["class_name"], "CosineDecay");
  Sequential loaded = load_model(dir.path());
  EXPECT_EQ(loaded.optimizer()->config(), model.optimizer()->config());
  ASSERT_NE(loaded.optimizer()->learning_rate_setting().schedule(), nullptr);
  EXPECT_DOUBLE_EQ(loaded.optimizer()->learning_rate_setting().at(250), 0.001);
}

TEST(Schedules, MalformedSchedulesAreConfigErrorsNamingTheField) {
  auto error_for = [](const char* text) {
    try {
      optimizers::get(nlohmann::json::parse(text));
    } catch (const ConfigError& e) {
      return std::string(e.what());
    } catch (const ValueError& e) {
      return "ValueError: " + std::string(e.what());
    }
    return std::string("no error");
  };
  auto has = [](const std::string& text, const char* part) {
    return text.find(part) != std::string::npos;
  };
  std::string unknown = error_for(R"({"class_name": "SGD", "config": {"learning_rate": {"class_name": "Warp", "config": {}}}})");
  EXPECT_TRUE(has(unknown, "unknown learning-rate schedule \"Warp\"; expected ExponentialDecay")) << unknown;
  std::string missing = error_for(R"({"class_name": "SGD", "config": {"learning_rate": {"class_name": "CosineDecay", "config": {"initial_learning_rate": 0.1}}}})");
  EXPECT_TRUE(has(missing, "learning_rate (CosineDecay): missing field 'decay_steps'")) << missing;
  std::string typed = error_for(R"({"class_name": "SGD", "config": {"learning_rate": {"class_name": "ExponentialDecay", "config": {"initial_learning_rate": 0.1, "decay_steps": "10", "decay_rate": 0.5}}}})");
  EXPECT_TRUE(has(typed, "field 'decay_steps' must be a number, received \"10\"")) << typed;
  std::string list = error_for(R"({"class_name": "SGD", "config": {"learning_rate": {"class_name": "PiecewiseConstantDecay", "config": {"boundaries": [1, "x"], "values": [1, 2, 3]}}}})");
  EXPECT_TRUE(has(list, "field 'boundaries' must be a list of numbers, received \"x\" in it")) << list;
  std::string zero = error_for(R"({"class_name": "SGD", "config": {"learning_rate": {"class_name": "CosineDecay", "config": {"initial_learning_rate": 0.1, "decay_steps": 0}}}})");
  EXPECT_EQ(zero, "ValueError: CosineDecay decay_steps must be positive, received 0.000000");
  std::string rate = error_for(R"({"class_name": "SGD", "config": {"learning_rate": [0.1]}})");
  EXPECT_TRUE(has(rate, "field 'learning_rate' must be a number or a learning-rate schedule, received [0.1]")) << rate;
}

}  // namespace
}  // namespace kiln
