// Regularizers: Keras's formulas, names and configs, their penalty and gradient through a fit
// step, in the reported loss of fit and evaluate, and their round trip through save and load.
#include <cmath>

#include "helpers.hpp"

namespace kiln {
namespace {

TEST(Regularizers, KerasFormulasAndGradients) {
  const std::vector<float> w = {-2.0f, 0.0f, 0.5f, 3.0f};
  regularizers::L1 l1(0.1);
  regularizers::L2 l2;  // 0.01
  regularizers::L1L2 both(0.1, 0.01);
  EXPECT_NEAR(l1.value(w.data(), 4), 0.1 * 5.5, 1e-7);
  EXPECT_NEAR(l2.value(w.data(), 4), 0.01 * 13.25, 1e-7);  // l2 * sum w^2, no 1/2
  EXPECT_NEAR(both.value(w.data(), 4), 0.55 + 0.1325, 1e-7);
  std::vector<float> g(4, 1.0f);  // the gradient adds to what is there
  both.add_gradient(g.data(), w.data(), 4);
  const std::vector<float> expected = {1 - 0.1f - 0.04f, 1.0f, 1 + 0.1f + 0.01f, 1 + 0.1f + 0.06f};
  for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(g[i], expected[i], 1e-6) << i;
  EXPECT_DOUBLE_EQ(regularizers::L1().l1(), 0.01);
  EXPECT_DOUBLE_EQ(regularizers::L1L2().l2(), 0.0);
}

TEST(Regularizers, NamesAndConfigsAsKerasWritesThem) {
  EXPECT_EQ(regularizers::get("l1")->class_name(), "L1");
  EXPECT_DOUBLE_EQ(regularizers::get("l2")->l2(), 0.01);
  EXPECT_DOUBLE_EQ(regularizers::get("l1_l2")->l1(), 0.01);  // Keras's documented string
  EXPECT_DOUBLE_EQ(regularizers::get("l1_l2")->l2(), 0.01);
  EXPECT_DOUBLE_EQ(regularizers::get("L1L2")->l2(), 0.0);  // the class's defaults
  EXPECT_EQ(regularizers::get(nullptr), nullptr);
  auto config = regularizers::to_config(regularizers::L2(0.01));
  EXPECT_EQ(config, nlohmann::json::parse(R"({"module": "keras.regularizers", "class_name": "L2",
                                              "config": {"l2": 0.01}, "registered_name": null})"));
  EXPECT_EQ(regularizers::to_config(regularizers::get(config)), config);
  auto l1l2 = regularizers::to_config(regularizers::L1L2(0.001, 0.002));
  EXPECT_EQ(l1l2["config"], nlohmann::json::parse(R"({"l1": 0.001, "l2": 0.002})"));
  EXPECT_EQ(regularizers::to_config(regularizers::get(l1l2)), l1l2);
  EXPECT_TRUE(regularizers::to_config(RegularizerRef()).is_null());
}

TEST(Regularizers, MalformedOnesAreExplained) {
  auto message = [](const nlohmann::json& spec) {
    try {
      regularizers::get(spec);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_THROW(regularizers::get("l3"), ValueError);
  EXPECT_THROW(regularizers::get({{"class_name", "L2"}, {"config", {{"l2", "x"}}}}), ConfigError);
  EXPECT_NE(message({{"class_name", "L2"}, {"config", {{"l2", "x"}}}})
                .find("field 'l2' must be a number, received \"x\""),
            std::string::npos);
  EXPECT_NE(message({{"class_name", "L2"}, {"config", {{"l1", 0.1}}}}).find("unknown field 'l1'"),
            std::string::npos);
  EXPECT_THROW(regularizers::get({{"class_name", "Orthogonal"}}), ValueError);
  EXPECT_THROW(regularizers::get(5), ConfigError);
  EXPECT_NE(
      message({{"class_name", "L2"}, {"config", {{"l2", -1.0}}}})
          .find("Invalid value for argument l2: expected a non-negative float. Received: l2=-1"),
      std::string::npos);
}

// One SGD step of a regularized Dense layer on MSE, worked out by hand: the reported loss is
// the data loss plus l2 * sum W^2 + l1 * sum |b| at the weights before the step, and the step
// follows the data gradient plus 2 l2 W and l1 sign(b).
TEST(Regularizers, PenaltyAndGradientThroughAFitStep) {
  const int64_t B = 4, IN = 3, OUT = 2;
  const double l2 = 0.1, l1 = 0.05, lr = 0.1;
  Sequential model({layers::Dense({.units = OUT,
                                   .kernel_regularizer = regularizers::L2(l2),
                                   .bias_regularizer = regularizers::L1(l1),
                                   .input_shape = {IN}})});
  model.compile({.loss = "mse", .optimizer = optimizers::SGD({.learning_rate = lr})});
  auto& params = model.layers()[0]->params();
  Tensor w0 = testing::random_tensor({IN, OUT}, 1), b0({OUT}, {0.3f, -0.2f});
  std::copy_n(w0.data(), w0.size(), params[0].value.data());
  std::copy_n(b0.data(), b0.size(), params[1].value.data());
  Tensor x = testing::random_tensor({B, IN}, 2), y = testing::random_tensor({B, OUT}, 3);

  // By hand, in double.
  std::vector<double> err(B * OUT), gw(IN * OUT, 0.0), gb(OUT, 0.0);
  double data_loss = 0, penalty = 0;
  for (int64_t r = 0; r < B; ++r)
    for (int64_t o = 0; o < OUT; ++o) {
      double v = b0[o];
      for (int64_t i = 0; i < IN; ++i) v += double(x[r * IN + i]) * w0[i * OUT + o];
      err[r * OUT + o] = v - y[r * OUT + o];
      data_loss += err[r * OUT + o] * err[r * OUT + o] / (B * OUT);
    }
  for (int64_t r = 0; r < B; ++r)
    for (int64_t o = 0; o < OUT; ++o) {
      const double d = 2 * err[r * OUT + o] / (B * OUT);
      gb[o] += d;
      for (int64_t i = 0; i < IN; ++i) gw[i * OUT + o] += d * x[r * IN + i];
    }
  for (int64_t k = 0; k < IN * OUT; ++k) penalty += l2 * double(w0[k]) * w0[k];
  for (int64_t o = 0; o < OUT; ++o) penalty += l1 * std::abs(double(b0[o]));
  EXPECT_NEAR(model.regularization_loss(), penalty, 1e-7);

  History h = model.fit(x, y, {.batch_size = B, .shuffle = false, .verbose = 0});
  EXPECT_NEAR(h.history["loss"][0], data_loss + penalty, 1e-6);
  for (int64_t k = 0; k < IN * OUT; ++k)
    EXPECT_NEAR(params[0].value[k], w0[k] - lr * (gw[k] + 2 * l2 * w0[k]), 1e-6) << "kernel " << k;
  for (int64_t o = 0; o < OUT; ++o)
    EXPECT_NEAR(params[1].value[o], b0[o] - lr * (gb[o] + l1 * (b0[o] > 0 ? 1 : -1)), 1e-6)
        << "bias " << o;

  // evaluate reports the penalty too (Keras 3's compute_loss adds model.losses in test_step).
  const Tensor out = model.predict(x);
  const double after = losses::MeanSquaredError().forward(out, y.data()) / B;
  EXPECT_NEAR(model.evaluate(x, y, {.verbose = 0}).at("loss"), after + model.regularization_loss(),
              1e-6);
  // A frozen layer's weights carry no penalty, as Keras counts trainable weights only.
  model.layers()[0]->trainable = false;
  EXPECT_EQ(model.regularization_loss(), 0.0);
}

// Model::backward adds the penalties' gradients: central differences of the mean loss plus the
// penalty against it, for a small CNN with every kind of regularizer.
TEST(Regularizers, GradientsMatchCentralDifferences) {
  utils::set_random_seed(8);
  Sequential model(
      {layers::Conv2D({.filters = 2,
                       .kernel_size = 2,
                       .kernel_regularizer = regularizers::L1L2(0.02, 0.03),
                       .bias_regularizer = "l2",
                       .input_shape = {3, 3, 1}}),
       layers::Flatten(),
       layers::Dense({.units = 3, .activation = "softmax", .kernel_regularizer = "l1"})});
  model.compile({.loss = "sparse_categorical_crossentropy"});
  for (const auto& layer : model.layers())
    for (auto& p : layer->params())
      for (int64_t i = 0; i < p.value.size(); ++i) p.value[i] += 0.1f;  // biases off zero
  Tensor x = testing::random_tensor({2, 3, 3, 1}, 4);
  std::vector<int32_t> y = {2, 0};
  auto total = [&] {
    return model.loss()->forward(model.forward(x, true), y.data()) / 2 +
           model.regularization_loss();
  };
  total();
  model.backward(y.data());
  for (const auto& layer : model.layers())
    for (auto& p : layer->params()) {
      const Tensor analytic = p.grad.clone();
      for (int64_t i = 0; i < p.value.size(); ++i) {
        const float saved = p.value[i];
        const double eps = 1e-3;
        p.value[i] = saved + float(eps);
        const double up = total();
        p.value[i] = saved - float(eps);
        const double down = total();
        p.value[i] = saved;
        EXPECT_NEAR(analytic[i], (up - down) / (2 * eps), 2e-3)
            << layer->name() << "/" << p.name << " " << i;
      }
    }
}

TEST(Regularizers, SurviveSaveAndLoadAsKerasWritesThem) {
  utils::set_random_seed(9);
  Sequential model(
      {layers::Conv2D({.filters = 2,
                       .kernel_size = 3,
                       .kernel_regularizer = regularizers::L1L2(0.01, 0.02),
                       .bias_regularizer = "l2",
                       .input_shape = {5, 5, 1}}),
       layers::Flatten(),
       layers::Dense(
           {.units = 3, .activation = "softmax", .kernel_regularizer = regularizers::L2(0.001)})});
  model.compile({.optimizer = "adam"});
  testing::TempDir dir;
  model.save(dir.path());
  Model loaded = load_model(dir.path());
  EXPECT_EQ(io::model_config(loaded)["config"], io::model_config(model)["config"]);
  EXPECT_DOUBLE_EQ(loaded.regularization_loss(), model.regularization_loss());
  EXPECT_GT(model.regularization_loss(), 0.0);
  auto config = nlohmann::json::parse(io::read_file(dir / "config.json"));
  auto& layers = config["config"]["layers"];
  auto index_of = [&](const std::string& cls) {
    for (size_t i = 0; i < layers.size(); ++i)
      if (layers[i]["class_name"] == cls) return i;
    return layers.size();
  };
  const size_t dense = index_of("Dense"), conv = index_of("Conv2D");
  ASSERT_LT(dense, layers.size());
  ASSERT_LT(conv, layers.size());
  EXPECT_EQ(layers[dense]["config"]["kernel_regularizer"],
            nlohmann::json::parse(R"({"module": "keras.regularizers",
      "class_name": "L2", "config": {"l2": 0.001}, "registered_name": null})"));
  EXPECT_TRUE(layers[dense]["config"]["bias_regularizer"].is_null());
  EXPECT_EQ(layers[conv]["config"]["bias_regularizer"]["config"]["l2"], 0.01);

  // A malformed regularizer in a layer's config names the layer's field.
  layers[dense]["config"]["kernel_regularizer"] = {{"class_name", "L2"},
                                                   {"config", {{"l2", "big"}}}};
  try {
    io::model_from_config(config, "cfg.json");
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("field 'kernel_regularizer'"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace kiln
