// The metrics on hand-made batches: each accuracy, losses as metrics, sample weights, how
// "accuracy" resolves, weighted_metrics and the names fit logs.
#include "helpers.hpp"

namespace kiln {
namespace {

// Four samples of three classes: argmax 1, 0, 2, 0 (the last a tie of classes 0 and 2).
Tensor scores() {
  return Tensor({4, 3}, {0.1f, 0.7f, 0.2f, 0.5f, 0.3f, 0.2f, 0.2f, 0.3f, 0.5f, 0.4f, 0.2f, 0.4f});
}

TEST(Metrics, AccuraciesOnAHandMadeBatch) {
  const Tensor out = scores();
  const std::vector<int32_t> labels = {1, 1, 2, 2};  // right, wrong, right, wrong (tie goes to 0)
  metrics::SparseCategoricalAccuracy sparse;
  sparse.update(out, labels.data());
  EXPECT_DOUBLE_EQ(sparse.result(), 0.5);
  // One-hot rows and the labels they stand for give the same categorical accuracy.
  std::vector<float> onehot(12, 0.0f);
  for (int r = 0; r < 4; ++r) onehot[r * 3 + labels[r]] = 1.0f;
  metrics::CategoricalAccuracy categorical, from_labels;
  categorical.update(out, onehot.data());
  from_labels.update(out, labels.data());
  EXPECT_DOUBLE_EQ(categorical.result(), 0.5);
  EXPECT_DOUBLE_EQ(from_labels.result(), 0.5);
  // Top 2: sample 1's label 1 scores 0.3, second; sample 3's label 2 ties for first.
  metrics::SparseTopKCategoricalAccuracy top2(2);
  top2.update(out, labels.data());
  EXPECT_DOUBLE_EQ(top2.result(), 1.0);
  metrics::TopKCategoricalAccuracy top1(1);
  top1.update(out, onehot.data());
  EXPECT_DOUBLE_EQ(top1.result(), 0.75);  // ties count in, as TensorFlow's in_top_k
  metrics::SparseTopKCategoricalAccuracy top5;
  EXPECT_EQ(top5.name(), "sparse_top_k_categorical_accuracy");
  top5.update(out, labels.data());
  EXPECT_DOUBLE_EQ(top5.result(), 1.0);  // k beyond the classes
  EXPECT_THROW(metrics::TopKCategoricalAccuracy(0), ValueError);

  // Binary: thresholded at 0.5 (> 0.5 is 1), two units per sample averaged.
  Tensor probs({2, 2}, {0.7f, 0.5f, 0.2f, 0.9f});
  std::vector<float> bits = {1, 1, 0, 0};
  metrics::BinaryAccuracy binary;
  binary.update(probs, bits.data());
  EXPECT_DOUBLE_EQ(binary.result(), 0.5);  // 1/2 and 1/2
  metrics::BinaryAccuracy strict(0.8);
  strict.update(probs, bits.data());
  EXPECT_DOUBLE_EQ(strict.result(), 0.25);  // 0/2 and 1/2
  strict.reset();
  EXPECT_DOUBLE_EQ(strict.result(), 0.0);
}

// A weighted metric is sum w_i v_i / sum w_i over every batch seen (Keras's Mean).
TEST(Metrics, SampleWeightsGiveAWeightedMean) {
  const Tensor out = scores();
  const std::vector<int32_t> labels = {1, 1, 2, 2};
  const std::vector<float> weights = {3.0f, 1.0f, 0.5f, 0.5f};
  Targets t(labels.data());
  t.weights = weights.data();
  metrics::SparseCategoricalAccuracy accuracy;
  accuracy.update(out, t);
  EXPECT_DOUBLE_EQ(accuracy.result(), static_cast<double>(static_cast<float>(3.5 / 5.0)));
  accuracy.update(out, labels.data());  // a second batch, unweighted
  EXPECT_DOUBLE_EQ(accuracy.result(), static_cast<double>(static_cast<float>(5.5 / 9.0)));

  Tensor pred({2, 2}, {1.0f, 2.0f, 0.0f, 0.0f});
  std::vector<float> truth = {1.0f, 0.0f, 1.0f, 1.0f}, w = {1.0f, 3.0f};
  Targets tw(truth.data());
  tw.weights = w.data();
  auto mse = metrics::get("mse", {.sparse = false, .output = {2}});
  EXPECT_EQ(mse->name(), "mse");
  mse->update(pred, tw);
  // Per sample: (0 + 4) / 2 = 2 and (1 + 1) / 2 = 1; weighted: (2 + 3) / 4.
  EXPECT_DOUBLE_EQ(mse->result(), 1.25);
}

// As Keras's compile_utils.get_metric: from the output's last axis and the targets' kind.
TEST(Metrics, AccuracyResolvesFromTheTargetsAndOutput) {
  const Tensor out = scores();
  std::vector<float> onehot = {0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1};
  auto categorical = metrics::get("accuracy", {.sparse = false, .output = {3}});
  categorical->update(out, onehot.data());
  EXPECT_DOUBLE_EQ(categorical->result(), 0.5);
  EXPECT_EQ(categorical->name(), "accuracy");
  auto sparse = metrics::get("acc", {.sparse = true, .output = {3}});
  EXPECT_TRUE(sparse->needs_labels());
  EXPECT_EQ(sparse->name(), "acc");  // logged under the name given, as Keras does
  Tensor one({3, 1}, {0.9f, 0.2f, 0.6f});
  std::vector<int32_t> bits = {1, 1, 0};
  auto binary = metrics::get("accuracy", {.sparse = true, .output = {1}});
  binary->update(one, bits.data());
  EXPECT_DOUBLE_EQ(binary->result(), static_cast<double>(1.0f / 3.0f));

  EXPECT_THROW(metrics::get("precision_at_k"), ValueError);
  EXPECT_THROW(metrics::get("sparse_categorical_accuracy", {.sparse = false, .output = {3}}),
               ValueError);
  EXPECT_THROW(metrics::get("mse", {.sparse = true, .output = {3}}), ValueError);
  for (const char* name :
       {"categorical_crossentropy", "binary_crossentropy", "mae", "MeanSquaredError",
        "top_k_categorical_accuracy", "CategoricalAccuracy", "huber"})
    EXPECT_EQ(metrics::get(name, {.sparse = false, .output = {3}})->name(), name);
  EXPECT_EQ(
      metrics::get("sparse_categorical_crossentropy", {.sparse = true, .output = {3}})->name(),
      "sparse_categorical_crossentropy");
}

// metrics see no weights, weighted_metrics do; a weighted metric named as a plain one is
// "weighted_<name>", and a name given twice gets "_1".
TEST(Metrics, WeightedMetricsAndTheirNames) {
  metrics::MetricList list({"accuracy", "accuracy"}, {"accuracy", "mse"},
                           {.sparse = false, .output = {3}});
  std::vector<std::string> names;
  for (const auto& m : list) names.push_back(m->name());
  EXPECT_EQ(names,
            (std::vector<std::string>{"accuracy", "accuracy_1", "weighted_accuracy", "mse"}));
  const Tensor out = scores();
  std::vector<float> onehot = {0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1};
  const std::vector<float> weights = {3.0f, 1.0f, 0.5f, 0.5f};
  Targets t(onehot.data());
  t.weights = weights.data();
  list.update(out, t);
  auto it = list.begin();
  EXPECT_DOUBLE_EQ((*it)->result(), 0.5);
  EXPECT_DOUBLE_EQ((*(it + 2))->result(), static_cast<double>(static_cast<float>(3.5 / 5.0)));
  list.reset();
  EXPECT_DOUBLE_EQ((*it)->result(), 0.0);
}

TEST(Metrics, WeightedMetricsAreSavedAsKerasWritesThem) {
  Sequential model({layers::Dense({.units = 3, .activation = "softmax", .input_shape = {4}})});
  model.compile({.metrics = {"accuracy"}});
  EXPECT_TRUE(io::model_config(model)["compile_config"]["weighted_metrics"].is_null());
  model.compile({.metrics = {"accuracy"}, .weighted_metrics = {"accuracy", "mse"}});
  Model clone = clone_model(model);
  EXPECT_EQ(clone.weighted_metric_names(), (std::vector<std::string>{"accuracy", "mse"}));
}

TEST(Metrics, FitLogsKerasNames) {
  utils::set_random_seed(4);
  Tensor x = testing::random_tensor({30, 5}, 2);
  Tensor y({30, 4});
  for (int64_t i = 0; i < 30; ++i) y[i * 4 + i % 4] = 1.0f;
  Sequential model({layers::Dense({.units = 4, .activation = "softmax", .input_shape = {5}})});
  model.compile({.loss = "categorical_crossentropy",
                 .metrics = {"acc", "top_k_categorical_accuracy", "mse"},
                 .weighted_metrics = {"acc"}});
  History h = model.fit(x, y, {.epochs = 1, .validation_split = 0.2, .verbose = 0});
  for (const char* key :
       {"loss", "acc", "top_k_categorical_accuracy", "mse", "weighted_acc", "val_loss", "val_acc",
        "val_top_k_categorical_accuracy", "val_mse", "val_weighted_acc"})
    EXPECT_TRUE(h.history.contains(key)) << key;
  EXPECT_DOUBLE_EQ(h.history["top_k_categorical_accuracy"][0], 1.0);  // 4 classes, k = 5
  // Without weights, the weighted accuracy is the accuracy.
  EXPECT_DOUBLE_EQ(h.history["weighted_acc"][0], h.history["acc"][0]);
}

}  // namespace
}  // namespace kiln
