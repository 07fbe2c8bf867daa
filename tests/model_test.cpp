#include <cstring>
#include <sstream>

#include "helpers.hpp"

namespace kiln {
namespace {

using layers::Dense, layers::Flatten;

Sequential seed_model() {
  return Sequential({Flatten({28, 28}), Dense(300, "relu"), Dense(100, "relu"), Dense(10, "softmax")});
}

TEST(Sequential, SummaryMatchesKerasLayout) {
  Sequential model = seed_model();
  std::ostringstream out;
  model.summary(out);
  const std::string blank(65, ' ');
  const std::string expected =
      "Model: \"sequential\"\n" + std::string(65, '_') + "\n" +
      " Layer (type)                Output Shape              Param #   \n" + std::string(65, '=') + "\n" +
      " flatten (Flatten)           (None, 784)               0         \n" + blank + "\n" +
      " dense (Dense)               (None, 300)               235500    \n" + blank + "\n" +
      " dense_1 (Dense)             (None, 100)               30100     \n" + blank + "\n" +
      " dense_2 (Dense)             (None, 10)                1010      \n" + std::string(65, '=') + "\n" +
      "Total params: 266,610\nTrainable params: 266,610\nNon-trainable params: 0\n" + std::string(65, '_') + "\n";
  EXPECT_EQ(out.str(), expected);
  EXPECT_EQ(model.count_params(), 266610);
}

TEST(Sequential, GlorotUniformKernelsAndZeroBiases) {
  utils::set_random_seed(3);
  Sequential model = seed_model();
  const auto& kernel = model.layers()[1]->params()[0].value;
  double limit = std::sqrt(6.0 / (784 + 300)), sum = 0, max_abs = 0;
  for (float v : kernel.values()) {
    sum += v;
    max_abs = std::max(max_abs, double(std::abs(v)));
  }
  EXPECT_LE(max_abs, limit);
  EXPECT_GT(max_abs, 0.99 * limit);
  EXPECT_NEAR(sum / kernel.size(), 0.0, 0.01);
  for (float v : model.layers()[1]->params()[1].value.values()) EXPECT_EQ(v, 0.0f);
}

TEST(Sequential, AddBuildsWhenTheInputShapeIsKnown) {
  Sequential model;
  model.add(Flatten({4, 4}));
  model.add(Dense(3, "softmax"));
  EXPECT_TRUE(model.built());
  EXPECT_EQ(model.output_shape(), Shape{3});
  EXPECT_EQ(model.layers()[1]->name(), "dense");
}

TEST(Sequential, WrongInputShapesAreExplained) {
  Sequential model = seed_model();
  model.compile({.metrics = {"accuracy"}});
  try {
    model.predict(Tensor({2, 785}));
    FAIL() << "predict on the wrong shape must throw";
  } catch (const ShapeError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("[2, 28, 28]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[2, 785]"), std::string::npos) << msg;
  }
  EXPECT_THROW(model.fit(Tensor({4, 28, 28}), std::vector<int32_t>{1, 2, 3}, {.verbose = 0}), ShapeError);
  EXPECT_THROW(model.fit(Tensor({2, 28, 28}), std::vector<int32_t>{1, 10}, {.verbose = 0}), ValueError);
  EXPECT_THROW(Dense(0), ValueError);
  EXPECT_THROW(Dense(3, "swish_typo"), ValueError);
  EXPECT_THROW(Sequential({Dense({.units = 2, .input_shape = {3, 3}})}), ShapeError);
}

TEST(Sequential, FitReturnsKerasHistoryKeys) {
  utils::set_random_seed(1);
  Sequential model({Flatten({2, 2}), Dense(2, "softmax")});
  model.compile({.metrics = {"accuracy"}});
  Tensor x = testing::random_tensor({20, 2, 2}, 5);
  std::vector<int32_t> y(20);
  for (int i = 0; i < 20; ++i) y[i] = x[i * 4] > 0;
  History h = model.fit(x, y, {.epochs = 3, .batch_size = 4, .validation_split = 0.2, .verbose = 0});
  EXPECT_EQ(h.epoch, (std::vector<int>{0, 1, 2}));
  for (const char* key : {"loss", "accuracy", "val_loss", "val_accuracy"}) {
    ASSERT_TRUE(h.history.count(key)) << key;
    EXPECT_EQ(h.history[key].size(), 3u) << key;
  }
}

TEST(Sequential, GradientsAddUpUntilTheOptimizerSteps) {
  utils::set_random_seed(6);
  Sequential model({Dense({.units = 3, .activation = "relu", .input_shape = {4}}), Dense(2, "softmax")});
  model.compile({.optimizer = optimizers::SGD({.learning_rate = 0.1})});
  Tensor x = testing::random_tensor({5, 4}, 8);
  std::vector<int32_t> y = {0, 1, 1, 0, 1};
  auto grads = [&] { return model.layers()[0]->params()[0].grad.clone(); };
  model.forward(x, true);
  model.backward(y.data());
  Tensor once = grads();
  model.forward(x, true);
  model.backward(y.data());
  Tensor twice = grads();
  for (int64_t i = 0; i < once.size(); ++i) EXPECT_FLOAT_EQ(twice[i], 2 * once[i]);
  Tensor before = model.weights().clone();
  model.apply_gradients();
  for (int64_t i = 0; i < once.size(); ++i)
    EXPECT_FLOAT_EQ(model.layers()[0]->params()[0].value[i], before[i] - 0.1f * twice[i]);
  // After the step the next backward pass starts afresh: it matches a fresh model with the
  // same weights.
  model.forward(x, true);
  model.backward(y.data());
  Sequential twin({Dense({.units = 3, .activation = "relu", .input_shape = {4}}), Dense(2, "softmax")});
  twin.compile({.optimizer = "sgd"});
  std::copy_n(model.weights().data(), model.weights().size(), twin.weights().data());
  twin.forward(x, true);
  twin.backward(y.data());
  const Tensor& mine = model.layers()[0]->params()[0].grad;
  const Tensor& fresh = twin.layers()[0]->params()[0].grad;
  for (int64_t i = 0; i < mine.size(); ++i) EXPECT_EQ(mine[i], fresh[i]) << i;
}

TEST(Sequential, FusedSgdStepMatchesBackwardThenApply) {
  // train_step applies plain SGD inside the backward pass; it must equal the two-phase step.
  auto make = [] {
    utils::set_random_seed(9);
    Sequential m({layers::Flatten({2, 3}), Dense(7, "relu"), Dense(5, "tanh"), Dense(3, "softmax")});
    m.compile({.optimizer = optimizers::SGD({.learning_rate = 0.2})});
    return m;
  };
  Sequential fused = make(), twophase = make();
  Tensor x = testing::random_tensor({4, 2, 3}, 10);
  std::vector<int32_t> y = {2, 0, 1, 2};
  for (int step = 0; step < 3; ++step) {
    fused.forward(x, true);
    fused.train_step(y.data());
    twophase.forward(x, true);
    twophase.backward(y.data());
    twophase.apply_gradients();
  }
  EXPECT_EQ(fused.optimizer()->iterations(), 3);
  Tensor start = make().weights();
  double moved = 0;
  for (int64_t i = 0; i < fused.weights().size(); ++i) {
    EXPECT_NEAR(fused.weights()[i], twophase.weights()[i], 1e-6) << i;
    moved = std::max(moved, double(std::abs(fused.weights()[i] - start[i])));
  }
  EXPECT_GT(moved, 1e-3);  // the steps did change the weights
}

// An identity layer that records how the model called it; with `weighted`, it declares one
// (unused) weight, as a layer with trainable parameters would; with `reshape`, it says it is a
// pass-through (as Flatten does), which the model then never calls.
class Recorder : public Layer {
 public:
  Recorder(bool weighted, Shape input_shape = {}, bool reshape = false)
      : weighted_(weighted), reshape_(reshape), input_shape_(std::move(input_shape)) {}
  std::string class_name() const override { return "Recorder"; }
  Shape build(std::span<const Shape> input_shapes) override {
    if (weighted_) params_.push_back({"w", {1}, {"zeros"}});
    return single_input(input_shapes);
  }
  void forward(const Context&, std::span<const Tensor* const> in, Tensor& out) override {
    ++*forward_calls;
    std::copy_n(in[0]->data(), in[0]->size(), out.data());
  }
  void backward(const Context&, std::span<const Tensor* const>, const Tensor&, Tensor& grad_out,
                std::span<const InputGrad> grad_in) override {
    ++*calls;
    *received_grad_in = grad_in[0].tensor != nullptr;
    store_input_grad(grad_in[0], grad_out.data(), grad_out.size());
  }
  nlohmann::json config() const override { return nlohmann::json::object(); }
  Shape declared_input_shape() const override { return input_shape_; }
  bool is_reshape() const override { return reshape_; }

  std::shared_ptr<int> forward_calls = std::make_shared<int>(0);
  std::shared_ptr<int> calls = std::make_shared<int>(0);
  std::shared_ptr<bool> received_grad_in = std::make_shared<bool>(false);

 private:
  bool weighted_, reshape_;
  Shape input_shape_;
};

TEST(Sequential, BackwardStopsAtTheFirstLayerWithWeights) {
  // Nothing before the first weighted layer needs a gradient: layers before it are not called
  // back, and it is given no input gradient to compute (the seed model's first Dense would
  // otherwise compute a 32x784 product per step behind Flatten, to be thrown away).
  Recorder before(false, {4}), first(true), between(false);
  Sequential model({before, first, Dense(3, "relu"), between, Dense(2, "softmax")});
  model.compile({.optimizer = "sgd"});
  Tensor x = testing::random_tensor({5, 4}, 11);
  std::vector<int32_t> y = {0, 1, 1, 0, 1};
  model.forward(x, true);
  model.backward(y.data());
  EXPECT_EQ(*before.calls, 0);
  EXPECT_EQ(*first.calls, 1);
  EXPECT_FALSE(*first.received_grad_in);
  EXPECT_EQ(*between.calls, 1);
  EXPECT_TRUE(*between.received_grad_in);
}

TEST(Sequential, PassThroughLayersShareMemoryInsteadOfCopying) {
  // The same model twice, its identity layers copying (called) or passing memory through (not
  // called, their outputs and input gradients aliased): the same training, to the bit.
  auto make = [](bool reshape) {
    utils::set_random_seed(12);
    Recorder first(false, {4}, reshape), middle(false, {}, reshape), last(false, {}, reshape);
    Sequential m({first, Dense(5, "relu"), middle, Dense(3, "softmax"), last});
    m.compile({.optimizer = optimizers::SGD({.learning_rate = 0.5})});
    return std::tuple<Sequential, Recorder, Recorder, Recorder>{std::move(m), first, middle, last};
  };
  auto [copying, c0, c1, c2] = make(false);
  auto [passing, p0, p1, p2] = make(true);
  Tensor x = testing::random_tensor({6, 4}, 13);
  std::vector<int32_t> y = {0, 1, 2, 2, 1, 0};
  for (int step = 0; step < 3; ++step)
    for (Sequential* m : {&copying, &passing}) {
      m->forward(x, true);
      m->train_step(y.data());
    }
  for (int64_t i = 0; i < copying.weights().size(); ++i)
    ASSERT_EQ(copying.weights()[i], passing.weights()[i]) << i;
  Tensor a = copying.predict(x), b = passing.predict(x);
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), sizeof(float) * a.size()));
  EXPECT_GT(*c1.forward_calls, 0);
  EXPECT_EQ(*c1.calls, 3);  // the middle copy is called back; the first needs no gradient
  for (const Recorder* r : {&p0, &p1, &p2}) {
    EXPECT_EQ(*r->forward_calls, 0);
    EXPECT_EQ(*r->calls, 0);
  }
}

TEST(Sequential, Uint8InputsMatchTheirRescaledFloatsBitForBit) {
  utils::set_random_seed(2);
  Sequential model({Flatten({3, 3}), Dense(4, "relu"), Dense(3, "softmax")});
  model.compile({.metrics = {"accuracy"}});
  model.preprocessing.rescale = 1.0 / 255.0;
  ByteTensor bytes({10, 3, 3});
  for (int64_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 37);
  Tensor floats = bytes.astype<float>(1.0 / 255.0);
  Tensor a = model.predict(bytes, {.batch_size = 4}), b = model.predict(floats, {.batch_size = 4});
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), sizeof(float) * a.size()));
  std::vector<int32_t> y = {0, 1, 2, 0, 1, 2, 0, 1, 2, 0};
  EXPECT_EQ(model.evaluate(bytes, y, {.verbose = 0}).at("loss"),
            model.evaluate(floats, y, {.verbose = 0}).at("loss"));
  Sequential twin({Flatten({3, 3}), Dense(4, "relu"), Dense(3, "softmax")});
  std::copy_n(model.weights().data(), model.weights().size(), twin.weights().data());
  twin.compile({.metrics = {"accuracy"}});
  twin.preprocessing.rescale = 1.0 / 255.0;
  model.fit(bytes, y, {.epochs = 2, .batch_size = 3, .verbose = 0, .seed = 4});
  twin.fit(floats, y, {.epochs = 2, .batch_size = 3, .verbose = 0, .seed = 4});
  EXPECT_EQ(0, std::memcmp(model.weights().data(), twin.weights().data(), sizeof(float) * model.weights().size()));
}

}  // namespace
}  // namespace kiln
