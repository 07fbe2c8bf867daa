// The functional API: models from symbolic tensors, shared layers, merges, several inputs and
// outputs, Keras's summary table, graph errors, and gradients through skips and shared tensors.
#include <cstring>
#include <sstream>

#include "helpers.hpp"

namespace kiln {
namespace {

using layers::Add, layers::Concatenate, layers::Dense, layers::Flatten;

// The example: Input -> Flatten -> Dense -> Dense -> Add(skip) -> Dense.
Model residual_mlp(int64_t width = 256) {
  auto inputs = Input({28, 28});
  auto x = Flatten()(inputs);
  auto h = Dense(width, "relu")(x);
  auto y = Dense(width, "relu")(h);
  auto s = Add()({h, y});
  auto outputs = Dense(10, "softmax")(s);
  return Model(inputs, outputs, "residual_mlp");
}

TEST(Functional, SummaryMatchesKerasTableWithConnections) {
  Model model = residual_mlp();
  std::ostringstream out;
  model.summary(out);
  const std::string blank(98, ' ');
  const std::string expected =
      "Model: \"residual_mlp\"\n" + std::string(98, '_') + "\n" +
      " Layer (type)                   Output Shape         Param #     Connected to                     \n" +
      std::string(98, '=') + "\n" +
      " input_1 (InputLayer)           [(None, 28, 28)]     0           []                               \n" + blank +
      "\n" +
      " flatten (Flatten)              (None, 784)          0           ['input_1[0][0]']                \n" + blank +
      "\n" +
      " dense (Dense)                  (None, 256)          200960      ['flatten[0][0]']                \n" + blank +
      "\n" +
      " dense_1 (Dense)                (None, 256)          65792       ['dense[0][0]']                  \n" + blank +
      "\n" +
      " add (Add)                      (None, 256)          0           ['dense[0][0]',                  \n" +
      "                                                                  'dense_1[0][0]']                \n" + blank +
      "\n" +
      " dense_2 (Dense)                (None, 10)           2570        ['add[0][0]']                    \n" +
      std::string(98, '=') + "\n" + "Total params: 269,322\nTrainable params: 269,322\nNon-trainable params: 0\n" +
      std::string(98, '_') + "\n";
  EXPECT_EQ(out.str(), expected);
}

TEST(Functional, AChainPrintsAsKerasPrintsASequentialLikeModel) {
  auto inputs = Input({4});
  Model model(inputs, Dense(2)(Dense(3, "relu")(inputs)), "chain");
  std::ostringstream out;
  model.summary(out);
  EXPECT_NE(out.str().find(" input_1 (InputLayer)        [(None, 4)]               0         \n"), std::string::npos)
      << out.str();
  EXPECT_EQ(out.str().find("Connected to"), std::string::npos) << out.str();
}

TEST(Functional, LayersAreListedNamedAndFoundAsInKeras) {
  Model model = residual_mlp();
  std::vector<std::string> names;
  for (const auto& layer : model.layers()) names.push_back(layer->name());
  EXPECT_EQ(names, (std::vector<std::string>{"input_1", "flatten", "dense", "dense_1", "add", "dense_2"}));
  EXPECT_EQ(model.get_layer("add")->class_name(), "Add");
  EXPECT_EQ(model.inputs().size(), 1u);
  EXPECT_EQ(model.outputs()[0].shape(), Shape{10});
  EXPECT_EQ(model.class_name(), "Functional");
  try {
    model.get_layer("dense_9");
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("Existing layers are: [input_1, flatten, dense, dense_1, add, dense_2]"),
              std::string::npos)
        << e.what();
  }
  static_assert(!std::is_copy_constructible_v<Model>, "a model owns its weights: no silent copies");
  static_assert(!std::is_copy_constructible_v<Sequential>);
}

TEST(Functional, ALayerCalledTwiceIsOneLayerWithOneSetOfWeights) {
  utils::set_random_seed(4);
  auto a = Input({6}), b = Input({6});
  Dense shared(5, "tanh");
  auto ya = shared(a), yb = shared(b);
  Model model({a, b}, {layers::Subtract()({ya, yb})}, "siamese");
  EXPECT_EQ(model.layers().size(), 4u);  // input_1, input_2, dense, subtract
  EXPECT_EQ(model.count_params(), 35);
  Tensor x = testing::random_tensor({3, 6}, 5);
  Tensor same = model.predict(std::vector<Inputs>{x, x});
  for (float v : same.values()) EXPECT_EQ(v, 0.0f) << "one layer, one set of weights: equal inputs, equal outputs";
  std::ostringstream out;
  model.summary(out);
  EXPECT_NE(out.str().find("['input_1[0][0]',"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("'input_2[0][0]']"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("['dense[0][0]',"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("'dense[1][0]']"), std::string::npos) << out.str();
  EXPECT_THROW(shared(Input({7})), ShapeError) << "a second call must bring the first call's shape";
}

TEST(Functional, GraphErrorsNameTheProblem) {
  auto a = Input({4}, "a"), b = Input({4}, "b");
  auto s = Add()({Dense(4)(a), Dense(4)(b)});
  try {
    Model model(a, s);
    FAIL() << "built a model whose output needs an input it was not given";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("graph disconnected: the outputs need the input 'b'"), std::string::npos)
        << e.what();
  }
  auto x = Input({4});
  Dense first(3), second(3);
  first->set_name("twin");
  second->set_name("twin");
  try {
    Model model(x, second(first(x)));
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("the name \"twin\" is used by two layers"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Add()({Input({4}), Input({5})}), ShapeError);
  EXPECT_THROW(layers::Subtract()({x, x, x}), ShapeError);
  EXPECT_THROW(Model(Dense(2)(x), x), ValueError) << "inputs come from Input()";
}

TEST(Functional, ALayerOfALiveModelCannotJoinAnother) {
  auto x = Input({4});
  Dense dense(3);
  Model first(x, dense(x));
  auto y = Input({4});
  EXPECT_THROW(Model(y, dense(y)), ValueError);
}

// Two inputs (an image and two extra numbers) joined into a class head and, with `score`, a
// second head.
Model two_inputs(bool score) {
  auto image = Input({3, 4}), extra = Input({2});
  auto joined = Concatenate()({Flatten()(image), extra});
  auto hidden = Dense(8, "relu")(joined);
  auto probs = Dense(3, "softmax")(hidden);
  if (!score) return Model({image, extra}, {probs}, "two_inputs");
  return Model({image, extra}, {probs, Dense(1)(hidden)}, "two_heads");
}

TEST(Functional, SeveralInputsAndOutputs) {
  utils::set_random_seed(8);
  Tensor xi = testing::random_tensor({5, 3, 4}, 1), xe = testing::random_tensor({5, 2}, 2);
  Model two_outputs = two_inputs(true);
  std::vector<Tensor> out = two_outputs.predict_outputs({xi, xe}, {.batch_size = 2});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].shape(), (Shape{5, 3}));
  EXPECT_EQ(out[1].shape(), (Shape{5, 1}));
  EXPECT_THROW(two_outputs.predict({xi, xe}), ValueError) << "predict names predict_outputs for several outputs";
  two_outputs.compile({});
  EXPECT_THROW(two_outputs.fit({xi, xe}, std::vector<int32_t>(5, 0), {.verbose = 0}), ValueError);

  Model one_output = two_inputs(false);
  one_output.compile({.optimizer = "adam", .metrics = {"accuracy"}});
  std::vector<int32_t> y = {0, 1, 2, 1, 0};
  History h = one_output.fit({xi, xe}, y, {.epochs = 2, .batch_size = 2, .verbose = 0, .seed = 3});
  EXPECT_EQ(h.history.at("loss").size(), 2u);
  Logs logs = one_output.evaluate({xi, xe}, y, {.verbose = 0});
  EXPECT_TRUE(logs.contains("accuracy"));
  // The same rows as one batch and as batches of two give the same outputs.
  Tensor whole = one_output.predict({xi, xe}, {.batch_size = 5}), parts = one_output.predict({xi, xe}, {.batch_size = 2});
  EXPECT_EQ(0, std::memcmp(whole.data(), parts.data(), sizeof(float) * whole.size()));
  EXPECT_THROW(one_output.predict(std::vector<Inputs>{xi}), ValueError);
  EXPECT_THROW(one_output.predict({xi, testing::random_tensor({5, 3}, 4)}), ShapeError);
}

void expect_model_gradients(Model& model, const std::vector<Tensor>& x, const std::vector<int32_t>& y) {
  testing::GradientReport report = testing::check_model_gradients(model, x, y);
  EXPECT_TRUE(report.ok()) << report;
  std::cout << "  " << model.name() << ": " << report << "\n";
}

TEST(Functional, GradientsThroughSkipsBranchesAndSharedTensors) {
  utils::set_random_seed(21);
  std::vector<int32_t> y = {0, 2, 1, 2};
  {  // A residual block: the skip's gradient adds to the block's.
    auto x = Input({5});
    auto h = Dense(6, "tanh")(x);
    auto s = Add()({h, Dense(6, "tanh")(h)});
    Model model(x, Dense(3, "softmax")(s), "residual");
    model.compile({});
    expect_model_gradients(model, {testing::random_tensor({4, 5}, 1)}, y);
  }
  {  // One tensor read by three layers, one of them twice (x * x).
    auto x = Input({5});
    auto h = Dense(4, "sigmoid")(x);
    auto m = layers::Multiply()({h, h});
    auto c = Concatenate()({Dense(3, "tanh")(h), m, Dense(2)(h)});
    Model model(x, Dense(3, "softmax")(c), "shared_tensor");
    model.compile({});
    expect_model_gradients(model, {testing::random_tensor({4, 5}, 2)}, y);
  }
  {  // A shared layer: its weight gradients add over its two calls; a frozen layer still passes
     // gradients through.
    auto a = Input({4}), b = Input({4});
    Dense shared(4, "tanh"), frozen(4, "tanh");
    frozen->trainable = false;
    auto merged = layers::Average()({shared(a), shared(frozen(b))});
    Model model({a, b}, {Dense(3, "softmax")(merged)}, "shared_layer");
    model.compile({});
    expect_model_gradients(model, {testing::random_tensor({4, 4}, 3), testing::random_tensor({4, 4}, 4)}, y);
  }
}

TEST(Functional, FlattenPassesMemoryThroughButCopiesWhenItsInputHasOtherReaders) {
  // Flatten's input read by Flatten alone: Flatten is never called, its output gradient is its
  // input's. Read by an Add as well: the input's gradient gathers from both readers, so Flatten's
  // backward runs and adds its share.
  utils::set_random_seed(5);
  auto x = Input({6});
  auto h = Dense(6, "tanh")(x);
  auto f = Flatten()(h);
  auto s = Add()({f, h});
  Model model(x, Dense(3, "softmax")(s), "flatten_and_add");
  model.compile({});
  expect_model_gradients(model, {testing::random_tensor({4, 6}, 6)}, {0, 1, 2, 0});
}

}  // namespace
}  // namespace kiln
