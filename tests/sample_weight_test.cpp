// fit's sample_weight and class_weight and evaluate's sample_weight, as Keras weighs them: the
// batch loss is sum w_i l_i / batch size, `metrics` unweighted, `weighted_metrics` weighted.
#include "helpers.hpp"

namespace kiln {
namespace {

// One SGD step of y = w x + b on MSE with sample weights, worked out by hand:
// errors e = (0.6, 1.1, -0.4, 0.35) - (1, 0, 0, 2), weights s = (1, 2, 0, 0.5),
// loss = sum s e^2 / 4 = 0.9853125, dw = sum 2 s e x / 4 = 1.79375, db = sum 2 s e / 4 = 0.4875.
TEST(SampleWeight, AHandComputedBatch) {
  Sequential model({layers::Dense({.units = 1, .input_shape = {1}})});
  model.compile({.loss = "mse", .optimizer = optimizers::SGD({.learning_rate = 0.1})});
  model.layers()[0]->params()[0].value[0] = 0.5f;
  model.layers()[0]->params()[1].value[0] = 0.1f;
  Tensor x({4, 1}, {1.0f, 2.0f, -1.0f, 0.5f});
  Tensor y({4}, {1.0f, 0.0f, 0.0f, 2.0f});
  History h = model.fit(
      x, y,
      {.batch_size = 4, .shuffle = false, .sample_weight = {1.0f, 2.0f, 0.0f, 0.5f}, .verbose = 0});
  EXPECT_NEAR(h.history["loss"][0], 0.9853125, 1e-6);
  EXPECT_NEAR(model.layers()[0]->params()[0].value[0], 0.5 - 0.1 * 1.79375, 1e-6);
  EXPECT_NEAR(model.layers()[0]->params()[1].value[0], 0.1 - 0.1 * 0.4875, 1e-6);
}

struct Data {
  Tensor x = testing::random_tensor({12, 4}, 7);
  std::vector<int32_t> labels;
  Data() {
    for (int i = 0; i < 12; ++i) labels.push_back(i % 3);
  }
};

Sequential classifier(uint64_t seed) {
  utils::set_random_seed(seed);
  Sequential model({layers::Dense({.units = 3, .activation = "softmax", .input_shape = {4}})});
  model.compile({.loss = "sparse_categorical_crossentropy",
                 .optimizer = optimizers::SGD({.learning_rate = 0.1}),
                 .metrics = {"accuracy"},
                 .weighted_metrics = {"accuracy"}});
  return model;
}

// class_weight {0: 2, 2: 0.5} is the sample weight of each sample's class (1 for class 1), for
// integer labels and one-hot rows alike; the loss fit reports is the weighted one.
TEST(SampleWeight, ClassWeightIsASampleWeightPerClass) {
  Data d;
  const std::map<int, double> class_weight = {{0, 2.0}, {2, 0.5}};
  std::vector<float> per_sample;
  for (int32_t label : d.labels) per_sample.push_back(label == 0 ? 2.0f : label == 2 ? 0.5f : 1.0f);
  Tensor onehot({12, 3});
  for (int i = 0; i < 12; ++i) onehot[i * 3 + d.labels[i]] = 1.0f;

  Sequential by_class = classifier(1), by_sample = classifier(1), by_onehot = classifier(1);
  by_onehot.compile(
      {.loss = "categorical_crossentropy", .optimizer = optimizers::SGD({.learning_rate = 0.1})});
  Targets weighted(d.labels.data());
  weighted.weights = per_sample.data();
  const double expected = by_class.loss()->forward(by_class.predict(d.x), weighted) / 12;
  History a = by_class.fit(
      d.x, d.labels, {.batch_size = 12, .class_weight = class_weight, .verbose = 0, .seed = 2});
  History b = by_sample.fit(
      d.x, d.labels, {.batch_size = 12, .sample_weight = per_sample, .verbose = 0, .seed = 2});
  History c = by_onehot.fit(
      d.x, onehot, {.batch_size = 12, .class_weight = class_weight, .verbose = 0, .seed = 2});
  EXPECT_NEAR(a.history["loss"][0], expected, 1e-6);
  EXPECT_EQ(a.history["loss"], b.history["loss"]);
  EXPECT_NEAR(c.history["loss"][0], expected, 1e-6);
  for (size_t k = 0; k < 2; ++k) {
    const Tensor& wa = by_class.layers()[0]->params()[k].value;
    const Tensor& wb = by_sample.layers()[0]->params()[k].value;
    const Tensor& wc = by_onehot.layers()[0]->params()[k].value;
    EXPECT_TRUE(std::equal(wa.data(), wa.data() + wa.size(), wb.data()));
    EXPECT_LT(testing::max_abs_diff(
                  wc.data(), std::vector<double>(wa.data(), wa.data() + wa.size()), wa.size()),
              1e-6);
  }
}

// With the layer frozen the weights stay put, so fit's logs can be checked against evaluate:
// `accuracy` ignores the weights, `weighted_accuracy` uses them; the last validation_split of
// sample_weight weighs the validation samples, while class_weight weighs training samples only.
TEST(SampleWeight, MetricsValidationAndEvaluate) {
  Data d;
  const std::vector<float> weights = {1, 2, 3, 0, 1, 1, 2, 2, 0.5f, 4, 1, 0};
  Sequential model = classifier(3);
  model.layers()[0]->trainable = false;
  History h = model.fit(
      d.x, d.labels,
      {.batch_size = 5, .validation_split = 0.25, .sample_weight = weights, .verbose = 0});
  Tensor x_train = d.x.slice(0, 9), x_val = d.x.slice(9, 12);
  std::vector<int32_t> y_train(d.labels.begin(), d.labels.begin() + 9),
      y_val(d.labels.begin() + 9, d.labels.end());
  std::vector<float> w_train(weights.begin(), weights.begin() + 9),
      w_val(weights.begin() + 9, weights.end());
  Logs train =
      model.evaluate(x_train, y_train, {.batch_size = 5, .verbose = 0, .sample_weight = w_train});
  Logs val = model.evaluate(x_val, y_val, {.verbose = 0, .sample_weight = w_val});
  Logs plain = model.evaluate(x_train, y_train, {.batch_size = 5, .verbose = 0});
  EXPECT_NEAR(h.history["loss"][0], train.at("loss"), 1e-6);
  EXPECT_DOUBLE_EQ(h.history["accuracy"][0], plain.at("accuracy"));
  EXPECT_DOUBLE_EQ(h.history["weighted_accuracy"][0], train.at("weighted_accuracy"));
  EXPECT_DOUBLE_EQ(h.history["val_loss"][0], val.at("loss"));
  EXPECT_DOUBLE_EQ(h.history["val_weighted_accuracy"][0], val.at("weighted_accuracy"));
  // evaluate's loss is sum w_i l_i / N.
  Targets t(y_train.data());
  t.weights = w_train.data();
  EXPECT_NEAR(train.at("loss"), model.loss()->forward(model.predict(x_train), t) / 9, 1e-6);

  History hc = model.fit(
      d.x, d.labels,
      {.batch_size = 5, .validation_split = 0.25, .class_weight = {{1, 3.0}}, .verbose = 0});
  EXPECT_DOUBLE_EQ(hc.history["val_loss"][0],
                   model.evaluate(x_val, y_val, {.verbose = 0}).at("loss"));
  // validation_data may carry its own sample weights.
  History hv = model.fit(
      x_train, y_train,
      {.batch_size = 5, .validation_data = ValidationData{x_val, y_val, w_val}, .verbose = 0});
  EXPECT_DOUBLE_EQ(hv.history["val_loss"][0], val.at("loss"));
}

TEST(SampleWeight, MisuseIsExplained) {
  Data d;
  Sequential model = classifier(4);
  EXPECT_THROW(model.fit(d.x, d.labels,
                         {.class_weight = {{0, 2.0}},
                          .sample_weight = std::vector<float>(12, 1.0f),
                          .verbose = 0}),
               ValueError);
  try {
    model.fit(d.x, d.labels, {.sample_weight = {1.0f, 2.0f}, .verbose = 0});
    ADD_FAILURE() << "no error";
  } catch (const ValueError& e) {
    EXPECT_NE(
        std::string(e.what()).find("sample_weight needs one weight per sample (12), received 2"),
        std::string::npos)
        << e.what();
  }
  EXPECT_THROW(model.evaluate(d.x, d.labels, {.verbose = 0, .sample_weight = {1.0f}}), ValueError);
}

}  // namespace
}  // namespace kiln
