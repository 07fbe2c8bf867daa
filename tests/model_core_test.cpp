// What the model core gives every layer and callback: frozen layers, non-trainable weights,
// workspace memory, random streams, callbacks that reach the model, clone_model, Sequential's
// add and pop, and activation memory planned by liveness.
#include <cstring>
#include <sstream>

#include "helpers.hpp"

namespace kiln {
namespace {

using layers::Add, layers::Dense, layers::Flatten;

Tensor random_x(int64_t n, uint64_t seed) { return testing::random_tensor({n, 6}, seed); }
std::vector<int32_t> labels(int64_t n) {
  std::vector<int32_t> y(n);
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<int32_t>((i * 7) % 3);
  return y;
}

TEST(ModelCore, AFrozenLayerKeepsItsWeightsBitForBitThroughFit) {
  for (const char* optimizer : {"sgd", "adam"}) {
    SCOPED_TRACE(optimizer);
    utils::set_random_seed(2);
    Sequential model({Dense({.units = 8, .activation = "relu", .input_shape = {6}}), Dense(8, "relu"),
                      Dense(3, "softmax")});
    model.layers()[1]->trainable = false;
    model.compile({.optimizer = optimizer});
    std::vector<Tensor> before = model.get_weights();
    model.fit(random_x(64, 1), labels(64), {.epochs = 3, .batch_size = 8, .verbose = 0, .seed = 1});
    std::vector<Tensor> after = model.get_weights();
    for (size_t w : {2, 3})  // dense_1's kernel and bias
      EXPECT_EQ(0, std::memcmp(before[w].data(), after[w].data(), sizeof(float) * before[w].size())) << w;
    for (size_t w : {0, 4}) EXPECT_NE(0, std::memcmp(before[w].data(), after[w].data(), sizeof(float) * before[w].size()));
    std::ostringstream out;
    model.summary(out);
    EXPECT_NE(out.str().find("Total params: 155\nTrainable params: 83\nNon-trainable params: 72\n"), std::string::npos)
        << out.str();
  }
}

TEST(ModelCore, UnfreezingBetweenFitsTrainsTheLayerAgain) {
  utils::set_random_seed(3);
  Sequential model({Dense({.units = 4, .activation = "tanh", .input_shape = {6}}), Dense(3, "softmax")});
  model.compile({.optimizer = "adam"});
  model.layers()[0]->trainable = false;
  model.fit(random_x(32, 4), labels(32), {.epochs = 1, .verbose = 0, .seed = 1});
  Tensor frozen = model.get_weights()[0];
  model.layers()[0]->trainable = true;
  model.fit(random_x(32, 4), labels(32), {.epochs = 1, .verbose = 0, .seed = 1});
  EXPECT_NE(0, std::memcmp(frozen.data(), model.get_weights()[0].data(), sizeof(float) * frozen.size()));
}

// A layer with a non-trainable weight it updates itself (a running count of the batches it saw
// in training, as batch normalization keeps its moving statistics), workspace memory, and a
// random mask drawn from the context's stream: y = x * mask, mask in {0, 2}.
class MaskLayer : public Layer {
 public:
  std::string class_name() const override { return "MaskLayer"; }
  Shape build(std::span<const Shape> input_shapes) override {
    params_.push_back({"seen", {1}, {"zeros"}, false});
    return single_input(input_shapes);
  }
  Workspace workspace(int64_t batch, bool training) const override {
    return {.scratch = 7, .saved = training ? batch * shape_size(output_shape()) : 0};
  }
  void forward(const Context& ctx, std::span<const Tensor* const> in, Tensor& out) override {
    const int64_t n = out.size();
    for (auto& v : ctx.scratch) v = -1.0f;  // scratch is this call's alone
    for (int64_t i = 0; i < n; ++i) {
      float mask = ctx.training ? (ctx.random.uniform(static_cast<uint64_t>(i)) < 0.5f ? 0.0f : 2.0f) : 1.0f;
      if (ctx.training) ctx.saved[i] = mask;
      out[i] = (*in[0])[i] * mask;
    }
    if (ctx.training) params_[0].value[0] += 1.0f;
  }
  void backward(const Context& ctx, std::span<const Tensor* const>, const Tensor&, Tensor& grad_out,
                std::span<const InputGrad> grad_in) override {
    for (int64_t i = 0; i < grad_out.size(); ++i) grad_out[i] *= ctx.saved[i];  // the forward's mask
    store_input_grad(grad_in[0], grad_out.data(), grad_out.size());
  }
  nlohmann::json config() const override { return nlohmann::json::object(); }
  bool backward_reads_inputs() const override { return false; }
  bool backward_reads_output() const override { return false; }
};

Model masked_model(uint64_t seed) {
  utils::set_random_seed(seed);
  auto x = Input({6});
  auto h = Dense(8, "tanh")(x);
  auto m = LayerRef(MaskLayer())(h);
  auto s = Add()({h, LayerRef(MaskLayer())(Dense(8, "tanh")(m))});
  Model model(x, Dense(3, "softmax")(s));
  model.compile({.optimizer = "sgd"});
  return model;
}

TEST(ModelCore, LayersGetWorkspaceRandomStreamsAndNonTrainableWeights) {
  Model a = masked_model(5), b = masked_model(5);
  Tensor x = random_x(16, 6);
  a.fit(x, labels(16), {.epochs = 2, .batch_size = 4, .verbose = 0, .seed = 9});
  b.fit(x, labels(16), {.epochs = 2, .batch_size = 4, .verbose = 0, .seed = 9});
  EXPECT_EQ(0, std::memcmp(a.weights().data(), b.weights().data(), sizeof(float) * a.weights().size()))
      << "the same seeds give the same masks";
  // The non-trainable count went up by one per training batch, untouched by the optimizer.
  EXPECT_EQ(a.get_layer("mask_layer")->params()[0].value[0], 8.0f);
  EXPECT_EQ(a.count_trainable_params(), a.count_params() - 2);
  Model c = masked_model(5);
  c.fit(x, labels(16), {.epochs = 2, .batch_size = 4, .verbose = 0, .seed = 10});
  EXPECT_NE(0, std::memcmp(a.weights().data(), c.weights().data(), sizeof(float) * a.weights().size()))
      << "another fit seed, other masks";
  // Backward reads the masks its forward saved, while the workspace of the other mask layer and
  // the activations share the planned arena: the gradient check holds with the model's seed set
  // before every forward pass, so that each pass draws the same masks.
  testing::GradientReport report = testing::check_model_gradients(a, {x}, labels(16), {}, [&] { a.set_seed(77); });
  EXPECT_TRUE(report.ok()) << report;
  EXPECT_GT(report.checked, 100);
}

TEST(ModelCore, RandomStreamsDifferByStepAndCallSite) {
  RandomStream s(42);
  EXPECT_NE(s.fork(1).bits(0), s.fork(2).bits(0));
  EXPECT_NE(s.bits(0), s.bits(1));
  EXPECT_EQ(RandomStream(42).fork(7).uniform(3), s.fork(7).uniform(3));
  double mean = 0;
  for (uint64_t i = 0; i < 100000; ++i) mean += s.uniform(i);
  EXPECT_NEAR(mean / 100000, 0.5, 0.01);
}

// Records the hooks it sees, and stops training when told to.
class Recorder : public Callback {
 public:
  explicit Recorder(int stop_after_epoch = -1) : stop_after_(stop_after_epoch) {}
  void on_train_begin(const Logs&) override { log("train_begin"); }
  void on_train_end(const Logs&) override { log("train_end"); }
  void on_epoch_begin(int e, const Logs&) override { log("epoch_begin " + std::to_string(e)); }
  void on_epoch_end(int e, const Logs&) override {
    log("epoch_end " + std::to_string(e));
    if (e == stop_after_) model()->stop_training = true;
  }
  void on_train_batch_end(int64_t, const Logs&) override { ++train_batches; }
  void on_test_begin(const Logs&) override { log("test_begin"); }
  void on_test_end(const Logs&) override { log("test_end"); }
  void on_test_batch_begin(int64_t, const Logs&) override { ++test_batches_begun; }
  void on_test_batch_end(int64_t, const Logs&) override { ++test_batches; }
  void on_predict_begin(const Logs&) override { log("predict_begin"); }
  void on_predict_end(const Logs&) override { log("predict_end"); }
  void on_predict_batch_begin(int64_t, const Logs&) override { ++predict_batches_begun; }
  void on_predict_batch_end(int64_t, const Logs&) override { ++predict_batches; }
  void log(const std::string& event) {
    events += (events.empty() ? "" : ",") + event;
    EXPECT_NE(model(), nullptr) << event;
  }
  std::string events;
  int train_batches = 0, test_batches = 0, test_batches_begun = 0, predict_batches = 0, predict_batches_begun = 0;

 private:
  int stop_after_;
};

TEST(ModelCore, CallbacksReachTheModelAndEveryHookIsCalled) {
  utils::set_random_seed(1);
  Sequential model({Dense({.units = 3, .activation = "softmax", .input_shape = {6}})});
  model.compile({});
  Recorder stopper(1);
  History h = model.fit(random_x(20, 2), labels(20),
                        {.epochs = 5, .batch_size = 8, .validation_split = 0.2, .verbose = 0, .callbacks = {&stopper}});
  EXPECT_EQ(stopper.model(), &model);
  EXPECT_EQ(stopper.events,
            "train_begin,epoch_begin 0,test_begin,test_end,epoch_end 0,epoch_begin 1,test_begin,test_end,epoch_end 1,"
            "train_end");
  EXPECT_EQ(h.epoch, (std::vector<int>{0, 1})) << "stop_training ends fit after the current epoch";
  EXPECT_EQ(stopper.train_batches, 4);
  EXPECT_EQ(stopper.test_batches, 2);
  Recorder evaluate, predict;
  model.evaluate(random_x(20, 3), labels(20), {.batch_size = 8, .verbose = 0, .callbacks = {&evaluate}});
  EXPECT_EQ(evaluate.events, "test_begin,test_end");
  EXPECT_EQ(evaluate.test_batches, 3);
  EXPECT_EQ(evaluate.test_batches_begun, 3);
  model.predict(random_x(20, 3), {.batch_size = 8, .callbacks = {&predict}});
  EXPECT_EQ(predict.events, "predict_begin,predict_end");
  EXPECT_EQ(predict.predict_batches, 3);
  EXPECT_EQ(predict.predict_batches_begun, 3);
  model.fit(random_x(20, 2), labels(20), {.epochs = 2, .verbose = 0});
  EXPECT_FALSE(model.stop_training) << "the next fit starts afresh";
}

TEST(ModelCore, CloneModelHasTheArchitectureAndFreshWeights) {
  utils::set_random_seed(4);
  auto x = Input({6});
  auto h = Dense(5, "relu")(x);
  Model model(x, Dense(3, "softmax")(Add()({h, Dense(5)(h)})), "original");
  model.compile({.optimizer = "adam", .metrics = {"accuracy"}});
  model.class_names = {"a", "b", "c"};
  Model copy = clone_model(model);
  EXPECT_EQ(io::model_config(copy)["config"], io::model_config(model)["config"]);
  EXPECT_EQ(copy.class_names, model.class_names);
  EXPECT_TRUE(copy.compiled());
  EXPECT_NE(copy.get_layer("dense").get(), model.get_layer("dense").get()) << "new layers";
  EXPECT_NE(0, std::memcmp(copy.weights().data(), model.weights().data(), sizeof(float) * copy.weights().size()));
  copy.set_weights(model.get_weights());
  Tensor in = random_x(4, 5);
  Tensor a = model.predict(in), b = copy.predict(in);
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), sizeof(float) * a.size())) << "set_weights makes a deep copy";
  EXPECT_THROW(copy.set_weights({}), ValueError);
}

TEST(ModelCore, SequentialAddAndPopKeepTheWeightsOfLayersAlreadyBuilt) {
  utils::set_random_seed(6);
  Sequential model({Flatten({2, 3}), Dense(4, "relu")});
  Tensor first = model.get_weights()[0];
  model.add(Dense(2, "softmax"));
  EXPECT_EQ(model.layers().size(), 3u);
  EXPECT_EQ(0, std::memcmp(first.data(), model.get_weights()[0].data(), sizeof(float) * first.size()));
  EXPECT_EQ(model.output_shape(), Shape{2});
  LayerRef last = model.layers().back();
  model.pop();
  EXPECT_EQ(model.output_shape(), Shape{4});
  EXPECT_EQ(0, std::memcmp(first.data(), model.get_weights()[0].data(), sizeof(float) * first.size()));
  auto x = Input({4});
  Model other(x, last(x));  // a popped layer may join another model
  model.pop();
  model.pop();
  EXPECT_FALSE(model.built());
  EXPECT_THROW(model.pop(), ValueError);
}

// A residual MLP of 20 Dense layers: one into `width`, nine blocks x + Dense(Dense(x)), one out.
Model residual_stack(int64_t width) {
  auto inputs = Input({28, 28});
  auto x = Dense(width, "relu")(Flatten()(inputs));
  for (int i = 0; i < 9; ++i) x = Add()({x, Dense(width, "relu")(Dense(width, "relu")(x))});
  return Model(inputs, Dense(10, "softmax")(x));
}

TEST(ModelCore, ThePlannerReusesActivationMemoryByLiveness) {
  Sequential seed({Flatten({28, 28}), Dense(300, "relu"), Dense(100, "relu"), Dense(10, "softmax")});
  Model deep = residual_stack(256);
  EXPECT_EQ(deep.layers().size(), 31u);  // input, flatten, 20 Dense, 9 Add
  for (auto* model : {static_cast<Model*>(&seed), &deep}) {
    const int64_t planned = model->planned_bytes(1000, false), all = model->unplanned_bytes(1000, false);
    std::cout << "  inference at batch 1000: " << planned << " bytes planned, " << all << " keeping every tensor\n";
    EXPECT_LE(planned, all);
    const int64_t train = model->planned_bytes(32, true), train_all = model->unplanned_bytes(32, true);
    std::cout << "  training at batch 32: " << train << " bytes planned, " << train_all << " keeping every tensor\n";
    EXPECT_LE(train, train_all);
  }
  // A chain of blocks needs three live activations at a time (a block's input, the tensor being
  // read, the one being written), not the 28 a plan without liveness keeps.
  const int64_t activation = 4 * 1000 * 256;
  EXPECT_LE(deep.planned_bytes(1000, false), 3 * activation + 4 * 1000 * 10 + 4096);
  EXPECT_GE(deep.unplanned_bytes(1000, false), 28 * activation);
  // Planned memory gives the results that separate memory gives: the residual stack predicts
  // the same at batch 1000 and row by row.
  Tensor x = testing::random_tensor({50, 28, 28}, 1, 0, 1);
  Tensor together = deep.predict(x, {.batch_size = 50}), alone = deep.predict(x, {.batch_size = 1});
  for (int64_t i = 0; i < together.size(); ++i) EXPECT_NEAR(together[i], alone[i], 1e-5) << i;
}

}  // namespace
}  // namespace kiln
