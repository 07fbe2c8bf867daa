// The losses: values and gradients against PyTorch (tests/golden/losses.json) and Keras's
// documented values, central differences, names and configs, and float targets through fit.
#include <cmath>

#include "helpers.hpp"

namespace kiln {
namespace {

using testing::expect_close;
using testing::fill;

// The targets of a golden case (labels or float values, and weights), kept alive with it.
struct CaseTargets {
  std::vector<int32_t> labels;
  std::vector<float> values, weights;
  Targets view() const {
    Targets t = labels.empty() ? Targets(values.data()) : Targets(labels.data());
    if (!weights.empty()) t.weights = weights.data();
    return t;
  }
};

CaseTargets targets_of(const nlohmann::json& c) {
  CaseTargets t;
  if (c.contains("labels")) t.labels = c["labels"].get<std::vector<int32_t>>();
  if (c.contains("targets")) t.values = c["targets"].get<std::vector<float>>();
  if (c.contains("weights")) t.weights = c["weights"].get<std::vector<float>>();
  return t;
}

TEST(Losses, ValuesAndGradientsMatchPyTorch) {
  const auto g = testing::golden("losses");
  ASSERT_EQ(g["cases"].size(), 28u);
  for (const auto& c : g["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const int64_t B = c["B"], C = c["C"];
    auto loss = losses::get(c["loss"]);
    Tensor out({B, C}), grad({B, C});
    fill(out, c["out"]);
    const CaseTargets t = targets_of(c);
    EXPECT_NEAR(loss->forward(out, t.view()) / B, c["loss_value"].get<double>(), 2e-6);
    loss->backward(out, t.view(), static_cast<float>(B), grad, c["fuse"].get<bool>());
    expect_close("gradient", grad, c["grad"], 2e-6);
  }
}

// Keras's docstring examples (keras/src/losses/losses.py), per sample.
TEST(Losses, KerasDocumentedValues) {
  Tensor p({2, 3}, {0.05f, 0.95f, 0.0f, 0.1f, 0.8f, 0.1f});
  std::vector<float> onehot = {0, 1, 0, 0, 0, 1};
  losses::CategoricalCrossentropy cce;
  Tensor row0 = p.slice(0, 1), row1 = p.slice(1, 2);
  EXPECT_NEAR(cce.forward(row0, onehot.data()), 0.0513, 1e-4);
  EXPECT_NEAR(cce.forward(row1, onehot.data() + 3), 2.303, 1e-3);
  std::vector<int32_t> labels = {1, 2};
  EXPECT_NEAR(losses::SparseCategoricalCrossentropy().forward(p, labels.data()), 0.0513 + 2.303,
              1e-3);

  Tensor q({2, 2}, {0.6f, 0.4f, 0.4f, 0.6f});
  std::vector<float> bits = {0, 1, 0, 0};
  losses::BinaryCrossentropy bce;
  EXPECT_NEAR(bce.forward(q.slice(0, 1), bits.data()), 0.916, 1e-3);
  EXPECT_NEAR(bce.forward(q.slice(1, 2), bits.data() + 2), 0.714, 1e-3);
  EXPECT_NEAR(losses::Huber().forward(q, bits.data()) / 2, 0.155, 1e-3);

  Tensor pred({1, 3}, {0.9f, 0.1f, 0.8f});
  std::vector<float> truth = {1, 0, 1};
  EXPECT_NEAR(losses::MeanSquaredError().forward(pred, truth.data()), 0.02, 1e-6);
  EXPECT_NEAR(losses::MeanAbsoluteError().forward(pred, truth.data()), 0.4 / 3, 1e-6);
}

// Probabilities of 0 and 1 are clipped to [1e-7, 1 - 1e-7]: the loss is finite and the clipped
// entries get no gradient, as through Keras's clip.
TEST(Losses, ProbabilitiesAreClippedAsKerasDoes) {
  Tensor p({1, 2}, {0.0f, 1.0f}), grad({1, 2});
  std::vector<float> wrong = {1, 0};
  losses::CategoricalCrossentropy cce;
  EXPECT_NEAR(cce.forward(p, wrong.data()), -std::log(1e-7), 1e-3);
  cce.backward(p, wrong.data(), 1.0f, grad, false);
  EXPECT_EQ(grad[0], 0.0f);
  // 1 clips to the float32 below 1 - 1e-7, so log(1 - p) sees 1.19e-7, as in Keras's float32.
  losses::BinaryCrossentropy bce;
  EXPECT_NEAR(bce.forward(p, wrong.data()),
              0.5 * (-std::log(1e-7) - std::log(1 - double(1.0f - 1e-7f))), 1e-5);
  bce.backward(p, wrong.data(), 1.0f, grad, false);
  EXPECT_EQ(grad[0], 0.0f);
  EXPECT_EQ(grad[1], 0.0f);
}

// Central differences of the weighted mean loss against backward, for every loss and option;
// fused cases differentiate loss(activation(z)) with respect to z.
TEST(Losses, GradientsMatchCentralDifferences) {
  const int64_t B = 4, C = 3;
  const std::vector<float> weights = {1.0f, 0.5f, 2.0f, 0.25f};
  const std::vector<int32_t> labels = {0, 2, 1, 2};
  std::vector<float> onehot(B * C, 0.0f), values(B * C);
  for (int64_t r = 0; r < B; ++r) onehot[r * C + labels[r]] = 1.0f;
  Tensor noise = testing::random_tensor({B, C}, 3, -1.0f, 1.0f);
  for (int64_t i = 0; i < B * C; ++i) values[i] = noise[i];
  auto softmax = [&](const Tensor& z) {
    Tensor p = z.clone();
    for (int64_t r = 0; r < B; ++r) {
      double s = 0;
      for (int64_t j = 0; j < C; ++j) s += std::exp(double(z[r * C + j]));
      for (int64_t j = 0; j < C; ++j)
        p[r * C + j] = static_cast<float>(std::exp(double(z[r * C + j])) / s);
    }
    return p;
  };
  auto sigmoid = [](const Tensor& z) {
    Tensor p = z.clone();
    for (int64_t i = 0; i < p.size(); ++i)
      p[i] = static_cast<float>(1 / (1 + std::exp(-double(z[i]))));
    return p;
  };
  enum Kind { kLabels, kOneHot, kValues };
  struct Case {
    const char* name;
    nlohmann::json loss;
    const char* activation;  // applied to z first, or ""
    bool fused;              // backward differentiates the activation too
    Kind targets;
  };
  const std::vector<Case> cases = {
      {"cce probs",
       {{"class_name", "CategoricalCrossentropy"}, {"config", {{"label_smoothing", 0.1}}}},
       "softmax",
       false,
       kOneHot},
      {"cce fused",
       {{"class_name", "CategoricalCrossentropy"}, {"config", {{"label_smoothing", 0.1}}}},
       "softmax",
       true,
       kOneHot},
      {"cce logits labels",
       {{"class_name", "CategoricalCrossentropy"},
        {"config", {{"from_logits", true}, {"label_smoothing", 0.3}}}},
       "",
       false,
       kLabels},
      {"scce fused", "sparse_categorical_crossentropy", "softmax", true, kLabels},
      {"scce probs", "sparse_categorical_crossentropy", "softmax", false, kLabels},
      {"scce logits",
       {{"class_name", "SparseCategoricalCrossentropy"}, {"config", {{"from_logits", true}}}},
       "",
       false,
       kLabels},
      {"bce probs",
       {{"class_name", "BinaryCrossentropy"}, {"config", {{"label_smoothing", 0.2}}}},
       "sigmoid",
       false,
       kOneHot},
      {"bce fused", "binary_crossentropy", "sigmoid", true, kOneHot},
      {"bce logits",
       {{"class_name", "BinaryCrossentropy"}, {"config", {{"from_logits", true}}}},
       "",
       false,
       kOneHot},
      {"mse", "mse", "", false, kValues},
      {"mae", "mae", "", false, kValues},
      {"huber", {{"class_name", "Huber"}, {"config", {{"delta", 0.7}}}}, "", false, kValues},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto loss = losses::get(c.loss);
    Tensor z = testing::random_tensor({B, C}, 11, -2.0f, 2.0f);
    const std::string act = c.activation;
    auto apply = [&](const Tensor& in) {
      return act == "softmax" ? softmax(in) : act == "sigmoid" ? sigmoid(in) : in;
    };
    // Differentiated with respect to z when fused, to the activation's output otherwise.
    Tensor input = c.fused ? z : apply(z);
    Targets t = c.targets == kLabels
                    ? Targets(labels.data())
                    : Targets(c.targets == kOneHot ? onehot.data() : values.data());
    t.weights = weights.data();
    auto value = [&](const Tensor& in) { return loss->forward(c.fused ? apply(in) : in, t) / B; };
    Tensor grad({B, C});
    loss->backward(c.fused ? apply(z) : input, t, static_cast<float>(B), grad, c.fused);
    for (int64_t i = 0; i < input.size(); ++i) {
      const float saved = input[i];
      const double eps = 1e-3;
      input[i] = saved + float(eps);
      const double up = value(input);
      input[i] = saved - float(eps);
      const double down = value(input);
      input[i] = saved;
      EXPECT_NEAR(grad[i], (up - down) / (2 * eps), 2e-3) << "element " << i;
    }
  }
}

TEST(Losses, NamesAliasesAndConfigsAsKerasWritesThem) {
  const std::vector<std::pair<std::string, std::string>> names = {
      {"mse", "MeanSquaredError"},
      {"MSE", "MeanSquaredError"},
      {"mean_squared_error", "MeanSquaredError"},
      {"mae", "MeanAbsoluteError"},
      {"MeanAbsoluteError", "MeanAbsoluteError"},
      {"bce", "BinaryCrossentropy"},
      {"binary_crossentropy", "BinaryCrossentropy"},
      {"categorical_crossentropy", "CategoricalCrossentropy"},
      {"huber", "Huber"},
      {"sparse_categorical_crossentropy", "SparseCategoricalCrossentropy"}};
  for (const auto& [name, cls] : names)
    EXPECT_EQ(losses::get(name)->config()["class_name"], cls) << name;

  auto cce =
      losses::CategoricalCrossentropy({.from_logits = true, .label_smoothing = 0.1}).config();
  EXPECT_EQ(cce["module"], "keras.losses");
  EXPECT_TRUE(cce["registered_name"].is_null());
  EXPECT_EQ(cce["config"],
            nlohmann::json::parse(R"({"name": "categorical_crossentropy", "reduction":
      "sum_over_batch_size", "from_logits": true, "label_smoothing": 0.1, "axis": -1})"));
  EXPECT_EQ(losses::Huber({.delta = 0.5}).config()["config"],
            nlohmann::json::parse(
                R"({"name": "huber_loss", "reduction": "sum_over_batch_size", "delta": 0.5})"));
  EXPECT_EQ(losses::MeanSquaredError().config()["config"],
            nlohmann::json::parse(
                R"({"name": "mean_squared_error", "reduction": "sum_over_batch_size"})"));
  // Every loss reads back from its config to the same config.
  for (const auto& [name, cls] : names) {
    auto config = losses::get(name)->config();
    EXPECT_EQ(losses::get(config)->config(), config) << name;
  }
  // As Keras 3 writes a compiled loss, and Keras 2 ("auto" reduction).
  auto keras3 = nlohmann::json::parse(
      R"({"module": "keras.losses", "class_name": "SparseCategoricalCrossentropy",
      "config": {"name": "sparse_categorical_crossentropy", "reduction": "sum_over_batch_size", "from_logits": true,
                 "ignore_class": null}, "registered_name": null})");
  EXPECT_TRUE(losses::get(keras3)->config()["config"]["from_logits"]);
  auto keras2 =
      nlohmann::json::parse(R"({"class_name": "BinaryCrossentropy", "config": {"reduction": "auto",
      "name": "binary_crossentropy", "from_logits": false, "label_smoothing": 0.0, "axis": -1}})");
  EXPECT_EQ(losses::get(keras2)->name(), "binary_crossentropy");
}

// The message of the error `get` throws for spec, which must be of type E.
template <typename E>
std::string error_of(const nlohmann::json& spec) {
  try {
    losses::get(spec);
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("wrong exception type: ") + e.what();
  }
  return "no error";
}

TEST(Losses, MalformedConfigsNameTheField) {
  auto has = [](const std::string& message, const std::string& part) {
    EXPECT_NE(message.find(part), std::string::npos) << message;
  };
  has(error_of<ValueError>("squared_loss"), "unknown loss \"squared_loss\"");
  has(error_of<ConfigError>({{"class_name", "Huber"}, {"config", {{"delta", "big"}}}}),
      "field 'delta' must be a number, received \"big\"");
  has(error_of<ConfigError>(
          {{"class_name", "CategoricalCrossentropy"}, {"config", {{"label_smoothing", true}}}}),
      "field 'label_smoothing' must be a number");
  has(error_of<ConfigError>({{"class_name", "MeanSquaredError"}, {"config", {{"delta", 1.0}}}}),
      "unknown field 'delta'");
  has(error_of<ConfigError>(
          {{"class_name", "MeanSquaredError"}, {"config", {{"reduction", "sum"}}}}),
      "reduction \"sum_over_batch_size\" only, received \"sum\"");
  has(error_of<ConfigError>({{"class_name", "CategoricalCrossentropy"}, {"config", {{"axis", 1}}}}),
      "axis=-1 only, received 1");
  has(error_of<ValueError>(
          {{"class_name", "BinaryCrossentropy"}, {"config", {{"label_smoothing", 2.0}}}}),
      "label_smoothing must be in [0, 1], received label_smoothing=2");
  has(error_of<ValueError>({{"class_name", "Huber"}, {"config", {{"delta", -1.0}}}}),
      "delta must be a positive number");
}

// A dense classifier's data: 24 samples of 4 features, labels 0..2.
struct Data {
  Tensor x = testing::random_tensor({24, 4}, 5);
  std::vector<int32_t> labels;
  Data() {
    for (int64_t i = 0; i < 24; ++i) labels.push_back(static_cast<int32_t>(i % 3));
  }
  Tensor onehot() const {
    Tensor t({24, 3});
    for (int64_t i = 0; i < 24; ++i) t[i * 3 + labels[i]] = 1.0f;
    return t;
  }
};

// The loss fit reports for an epoch of one batch is the loss of the weights before the step:
// the model's mean loss over the data, as Keras computes it.
TEST(Losses, FitTakesFloatTargetsAndReportsKerasLoss) {
  Data d;
  utils::set_random_seed(3);
  Sequential model({layers::Dense({.units = 3, .activation = "softmax", .input_shape = {4}})});
  model.compile(
      {.loss = losses::CategoricalCrossentropy({.label_smoothing = 0.1}), .optimizer = "sgd"});
  const Tensor probs = model.predict(d.x, {}).clone();
  const Tensor onehot = d.onehot();
  const double expected =
      losses::CategoricalCrossentropy({.label_smoothing = 0.1}).forward(probs, onehot.data()) / 24;
  History h = model.fit(d.x, onehot, {.batch_size = 24, .verbose = 0});
  EXPECT_NEAR(h.history["loss"][0], expected, 1e-6);
  // Integer labels with the same loss stand for the one-hot rows: the same loss.
  EXPECT_DOUBLE_EQ(model.evaluate(d.x, d.labels, {.verbose = 0}).at("loss"),
                   model.evaluate(d.x, onehot, {.verbose = 0}).at("loss"));

  // A sigmoid unit with 0/1 labels as uint8 (BCE), and a regression on float targets (MSE).
  Sequential binary({layers::Dense({.units = 1, .activation = "sigmoid", .input_shape = {4}})});
  binary.compile({.loss = "binary_crossentropy", .optimizer = "sgd", .metrics = {"accuracy"}});
  ByteTensor bits({24});
  for (int64_t i = 0; i < 24; ++i) bits[i] = static_cast<uint8_t>(d.labels[i] == 1);
  History hb = binary.fit(d.x, bits, {.epochs = 2, .verbose = 0});
  EXPECT_TRUE(hb.history.contains("accuracy"));
  Sequential regression({layers::Dense({.units = 2, .input_shape = {4}})});
  regression.compile({.loss = "mse", .optimizer = "sgd", .metrics = {"mae"}});
  Tensor y = testing::random_tensor({24, 2}, 9);
  History hr = regression.fit(d.x, y, {.epochs = 3, .batch_size = 8, .verbose = 0});
  EXPECT_LT(hr.history["loss"].back(), hr.history["loss"].front());
  EXPECT_TRUE(hr.history.contains("mae"));
}

TEST(Losses, TargetsThatDoNotFitTheLossOrOutputAreExplained) {
  Data d;
  Sequential model({layers::Dense({.units = 3, .activation = "softmax", .input_shape = {4}})});
  auto message = [&](auto&& call) {
    try {
      call();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  model.compile({.loss = "categorical_crossentropy"});
  std::string shape = message([&] { model.fit(d.x, Tensor({24, 4}), {.verbose = 0}); });
  EXPECT_NE(
      shape.find("takes targets shaped as the output [24, 3], received targets shaped [24, 4]"),
      std::string::npos)
      << shape;
  EXPECT_THROW(model.fit(d.x, Tensor({24, 4}), {.verbose = 0}), ShapeError);
  model.compile({.loss = "sparse_categorical_crossentropy"});
  std::string sparse = message([&] { model.evaluate(d.x, d.onehot(), {.verbose = 0}); });
  EXPECT_NE(
      sparse.find("takes integer class labels (shape [N]), received float targets shaped [24, 3]"),
      std::string::npos)
      << sparse;
  model.compile({.loss = "mse"});
  std::string labels = message([&] { model.fit(d.x, d.labels, {.verbose = 0}); });
  EXPECT_NE(
      labels.find(
          "'mean_squared_error' takes float targets shaped as the output [24, 3], received integer "
          "labels shaped [24]"),
      std::string::npos)
      << labels;
}

}  // namespace
}  // namespace kiln
