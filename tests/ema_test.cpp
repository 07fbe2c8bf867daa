// Keras's use_ema: a moving average of the trainable weights, written into them every
// ema_overwrite_frequency steps and when fit ends. Expected values follow Keras's formula
// avg = m * avg + (1 - m) * w after each update, with m = 0 on the first step.
#include "helpers.hpp"

namespace kiln {
namespace {

TEST(Ema, AverageFollowsKerasFormulaAndOverwritesOnSchedule) {
  optimizers::SGD sgd({.learning_rate = 1.0, .use_ema = true, .ema_momentum = 0.9, .ema_overwrite_frequency = 3});
  EXPECT_FALSE(sgd.fused_step());  // the layers would skip the average
  sgd.build(4);
  float w[4] = {3, 4, 5, 6}, ones[4] = {1, 1, 1, 1};
  const WeightRange all{0, 4};
  sgd.apply(w, ones, 4);  // w = 2 3 4 5, avg = w
  sgd.apply(w, ones, 4);  // w = 1 2 3 4, avg = 0.9 * (2 3 4 5) + 0.1 * w = 1.9 2.9 3.9 4.9
  float avg[4];
  std::copy_n(w, 4, avg);
  sgd.finalize_variable_values(avg, {&all, 1});
  for (int i = 0; i < 4; ++i) {
    EXPECT_FLOAT_EQ(w[i], 1.0f + static_cast<float>(i));
    EXPECT_NEAR(avg[i], 1.9f + static_cast<float>(i), 1e-6);
  }
  sgd.apply(w, ones, 4);  // w = 0 1 2 3, avg = 1.71 ..., and step 3 overwrites w with it
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(w[i], 1.71f + static_cast<float>(i), 1e-6);
}

TEST(Ema, OnlyTrainableRangesAreAveragedAndNothingBeforeTheFirstStep) {
  optimizers::Adam adam({.use_ema = true});
  adam.build(3);
  float w[3] = {1, 2, 3}, g[3] = {1, 1, 1};
  const WeightRange first{0, 1};
  adam.finalize_variable_values(w, {&first, 1});  // no step yet: untouched
  EXPECT_EQ(w[1], 2.0f);
  adam.apply(w, g, {&first, 1});
  adam.apply(w, g, {&first, 1});
  const float trained = w[0];
  adam.finalize_variable_values(w, {&first, 1});
  EXPECT_GT(w[0], trained);  // the average lags behind weights that only fall
  EXPECT_EQ(w[1], 2.0f);
  EXPECT_EQ(w[2], 3.0f);
}

// Training does not read the average, so a run with use_ema follows the same weights as one
// without; fit ends by writing the average of those weights, step by step as Keras computes it.
TEST(Ema, FitEndsWithTheMovingAverageOfTheWeightsItPassedThrough) {
  struct Averager : Callback {
    std::vector<float> avg;
    int64_t steps = 0;
    void on_train_batch_end(int64_t, const Logs&) override {
      const Tensor& w = model()->weights();
      if (avg.empty()) avg.assign(w.data(), w.data() + w.size());
      const float m = steps++ == 0 ? 0.0f : 0.9f;
      for (size_t i = 0; i < avg.size(); ++i) avg[i] = m * avg[i] + (1.0f - m) * w.data()[i];
    }
  };
  Tensor x = testing::random_tensor({40, 6}, 5);
  std::vector<int32_t> y(40);
  for (int i = 0; i < 40; ++i) y[static_cast<size_t>(i)] = i % 3;
  auto train = [&](bool use_ema, Callback* cb) {
    utils::set_random_seed(7);
    Sequential model({layers::Dense({.units = 8, .activation = "relu", .input_shape = {6}}),
                      layers::Dense({.units = 3, .activation = "softmax"})});
    model.compile({.loss = "sparse_categorical_crossentropy",
                   .optimizer = optimizers::Adam({.learning_rate = 0.05, .use_ema = use_ema, .ema_momentum = 0.9})});
    FitOptions options{.epochs = 3, .batch_size = 8, .verbose = 0, .seed = 1};
    if (cb) options.callbacks = {cb};
    model.fit(x, Labels(y), options);
    return model.weights().clone();
  };
  Averager by_hand;
  const Tensor plain = train(false, &by_hand);
  const Tensor averaged = train(true, nullptr);
  ASSERT_EQ(by_hand.steps, 15);
  ASSERT_EQ(static_cast<int64_t>(by_hand.avg.size()), averaged.size());
  double moved = 0;
  for (int64_t i = 0; i < averaged.size(); ++i) {
    EXPECT_NEAR(averaged[i], by_hand.avg[static_cast<size_t>(i)], 1e-6) << i;
    moved = std::max(moved, static_cast<double>(std::abs(averaged[i] - plain[i])));
  }
  EXPECT_GT(moved, 1e-3);  // the average is not the last weights
}

// SwapEMAWeights: fit's validation measures the average, and training goes on with its own weights.
TEST(Ema, SwapEMAWeightsValidatesTheAverageAndRestoresTheWeights) {
  Tensor x = testing::random_tensor({32, 4}, 9);
  std::vector<int32_t> y(32);
  for (int i = 0; i < 32; ++i) y[static_cast<size_t>(i)] = (x[i * 4] > 0) ? 1 : 0;
  struct Spy : Callback {
    std::vector<Tensor> at_test, after_test;
    void on_test_begin(const Logs&) override { at_test.push_back(model()->weights().clone()); }
    void on_epoch_end(int, const Logs&) override { after_test.push_back(model()->weights().clone()); }
  };
  auto run = [&](bool swap, Spy& spy) {
    utils::set_random_seed(3);
    Sequential model({layers::Dense({.units = 2, .activation = "softmax", .input_shape = {4}})});
    model.compile({.loss = "sparse_categorical_crossentropy",
                   .optimizer = optimizers::SGD({.learning_rate = 0.5, .use_ema = true, .ema_momentum = 0.5})});
    SwapEMAWeights swapper;
    FitOptions options{.epochs = 2, .batch_size = 8, .validation_data = ValidationData{x, y}, .verbose = 0, .seed = 2};
    options.callbacks = swap ? std::vector<Callback*>{&swapper, &spy} : std::vector<Callback*>{&spy};
    return model.fit(x, Labels(y), options);
  };
  auto values = [](const Tensor& t) { return std::vector<float>(t.data(), t.data() + t.size()); };
  Spy with, without;
  const History swapped = run(true, with), plain = run(false, without);
  ASSERT_EQ(with.at_test.size(), 2u);
  for (size_t e = 0; e < 2; ++e) {
    EXPECT_EQ(values(with.after_test[e]), values(without.after_test[e])) << "epoch " << e;
    EXPECT_NE(values(with.at_test[e]), values(without.at_test[e])) << "epoch " << e;
  }
  EXPECT_EQ(swapped.history.at("loss"), plain.history.at("loss"));
  EXPECT_NE(swapped.history.at("val_loss"), plain.history.at("val_loss"));

  Sequential no_ema({layers::Dense({.units = 2, .input_shape = {4}})});
  no_ema.compile({.loss = "sparse_categorical_crossentropy", .optimizer = "adam"});
  SwapEMAWeights swapper;
  EXPECT_THROW(no_ema.fit(x, Labels(y), {.verbose = 0, .callbacks = {&swapper}}), ValueError);
}

TEST(Ema, SavedInKerasConfigFormAndValidated) {
  auto adam = optimizers::get(nlohmann::json::parse(
      R"({"class_name": "Adam", "config": {"use_ema": true, "ema_momentum": 0.95, "ema_overwrite_frequency": 100}})"));
  EXPECT_TRUE(adam->common().use_ema);
  EXPECT_EQ(adam->config()["ema_momentum"], 0.95);
  EXPECT_EQ(adam->config()["ema_overwrite_frequency"], 100);
  const auto plain = optimizers::SGD().config();
  EXPECT_EQ(plain["use_ema"], false);
  EXPECT_EQ(plain["ema_momentum"], 0.99);
  EXPECT_TRUE(plain["ema_overwrite_frequency"].is_null());
  EXPECT_THROW(optimizers::SGD({.ema_momentum = 1.5}), ValueError);
  EXPECT_THROW(optimizers::Adam({.ema_overwrite_frequency = -1}), ValueError);
  EXPECT_THROW(optimizers::get(nlohmann::json::parse(R"({"class_name": "SGD", "config": {"use_ema": 1}})")), ConfigError);
}

}  // namespace
}  // namespace kiln
