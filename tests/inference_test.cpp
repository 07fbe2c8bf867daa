// Inference as predict and evaluate run it: batch normalization and ReLU folded into the product
// before them, and large batches run in cache-sized slices. Both must give the values the plain
// layer-by-layer pass gives.
#include "helpers.hpp"

namespace kiln {
namespace {

using namespace layers;

// Gives every weight of the model (the moving statistics included) values away from their
// initial ones, so that a folded batch normalization has something to fold.
void scramble_weights(Model& model, uint64_t seed) {
  Tensor& w = model.weights();
  Tensor noise = testing::random_tensor(w.shape(), seed, 0.2f, 1.5f);
  for (int64_t i = 0; i < w.size(); ++i) w[i] = (i % 3 == 0 ? -1.0f : 1.0f) * noise[i];
  for (const auto& layer : model.layers())
    for (auto& p : layer->params())
      if (p.name == "moving_variance")
        for (float& v : p.value.values()) v = std::abs(v);
}

// The layer-by-layer values: layer_output keeps every tensor, and so folds nothing.
Tensor unfolded(Model& model, const Tensor& x) { return model.layer_output(x, model.layers().back()->name()); }

void expect_near(const Tensor& a, const Tensor& b, float tolerance) {
  ASSERT_EQ(a.shape(), b.shape());
  for (int64_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], tolerance * (1.0f + std::abs(b[i]))) << "at " << i;
}

TEST(Inference, FoldedBatchNormalizationAndReluMatchTheLayerByLayerPass) {
  utils::set_random_seed(1);
  Sequential model({Conv2D({.filters = 6, .kernel_size = 3, .padding = "same", .input_shape = {9, 9, 2}}),
                    BatchNormalization(), ReLU(), MaxPooling2D(),
                    Conv2D({.filters = 5, .kernel_size = 3, .use_bias = false}), BatchNormalization(),
                    BatchNormalization({.center = false}), Activation("relu"), Flatten(), Dense(7),
                    BatchNormalization({.scale = false}), Dense(4, "softmax")});
  scramble_weights(model, 2);
  Tensor x = testing::random_tensor({5, 9, 9, 2}, 3);
  expect_near(model.predict(x), unfolded(model, x), 1e-5f);
}

// A layer that is an affine per-channel map at inference (y = 2x + 1) and counts how it runs.
class CountingMap : public Layer {
 public:
  std::string class_name() const override { return "CountingMap"; }
  Shape build(std::span<const Shape> input_shapes) override { return input_shapes[0]; }
  void forward(const Context&, std::span<const Tensor* const> inputs, Tensor& out) override {
    ++forwards;
    for (int64_t i = 0; i < out.size(); ++i) out[i] = 2.0f * (*inputs[0])[i] + 1.0f;
  }
  void backward(const Context&, std::span<const Tensor* const>, const Tensor&, Tensor&,
                std::span<const InputGrad>) override {}
  nlohmann::json config() const override { return nlohmann::json::object(); }
  MapKind channel_map() const override { return MapKind::kAffine; }
  void compose_map(ChannelMap& map) const override {
    ++composes;
    for (size_t j = 0; j < map.scale.size(); ++j) {
      map.scale[j] *= 2.0f;
      map.shift[j] = 2.0f * map.shift[j] + 1.0f;
    }
  }
  mutable int forwards = 0, composes = 0;
};

struct Counted {
  std::shared_ptr<CountingMap> impl = std::make_shared<CountingMap>();
  LayerRef ref{std::shared_ptr<Layer>(impl)};
};

TEST(Inference, AMapFoldsOnlyWhereItsInputFeedsNothingElse) {
  Tensor x = testing::random_tensor({3, 4}, 5);
  {
    Counted map;
    auto in = Input({4});
    Model model(in, Dense(2)(map.ref(Dense(3)(in))));
    Tensor folded = model.predict(x);
    EXPECT_EQ(map.impl->composes, 1);
    EXPECT_EQ(map.impl->forwards, 0);
    expect_near(folded, unfolded(model, x), 1e-6f);
    EXPECT_EQ(map.impl->forwards, 1);
  }
  {
    // The product's output also feeds an Add: the map runs on its own.
    Counted map;
    auto in = Input({4});
    auto h = Dense(3)(in);
    Model model(in, Add()({map.ref(h), h}));
    model.predict(x);
    EXPECT_EQ(map.impl->composes, 0);
    EXPECT_EQ(map.impl->forwards, 1);
  }
  {
    // After a ReLU the map is no longer affine in the product's output; and a product with its
    // own activation folds nothing.
    Counted after_relu, after_activation;
    auto in = Input({4});
    Model model(in, after_activation.ref(Dense(3, "relu")(after_relu.ref(ReLU()(Dense(3)(in))))));
    model.predict(x);
    EXPECT_EQ(after_relu.impl->composes, 0);
    EXPECT_EQ(after_relu.impl->forwards, 1);
    EXPECT_EQ(after_activation.impl->composes, 0);
    EXPECT_EQ(after_activation.impl->forwards, 1);
  }
  {
    // A model output keeps its own value.
    Counted map;
    auto in = Input({4});
    auto h = Dense(3)(in);
    Model model({in}, {h, map.ref(h)});
    model.predict_outputs({x});
    EXPECT_EQ(map.impl->composes, 0);
    EXPECT_EQ(map.impl->forwards, 1);
  }
}

TEST(Inference, TrainingAndValidationStillRunTheLayersThemselves) {
  utils::set_random_seed(4);
  Sequential model({Conv2D({.filters = 3, .kernel_size = 3, .input_shape = {6, 6, 1}}), BatchNormalization(), ReLU(),
                    Flatten(), Dense(2, "softmax")});
  model.compile({.optimizer = "adam", .metrics = {"accuracy"}});
  Tensor x = testing::random_tensor({16, 6, 6}, 6, 0.0f, 1.0f);
  std::vector<int32_t> y(16);
  for (size_t i = 0; i < y.size(); ++i) y[i] = static_cast<int32_t>(i % 2);
  model.fit(x, y, {.epochs = 2, .batch_size = 4, .validation_data = ValidationData{x, y}, .verbose = 0});
  Logs logs = model.evaluate(x, y, {.verbose = 0});
  Tensor p = model.predict(x);
  expect_near(p, unfolded(model, x), 1e-5f);
  double loss = 0;
  for (int64_t i = 0; i < 16; ++i) loss -= std::log(p[i * 2 + y[static_cast<size_t>(i)]]);
  EXPECT_NEAR(logs.at("loss"), loss / 16, 1e-5);
}

TEST(Inference, LargeBatchesRunInSlicesWithTheValuesOfOneSampleAtATime) {
  // Nearly 1 MB of activations an image: a batch of 12 runs in slices of a few images.
  utils::set_random_seed(7);
  Sequential model({Conv2D({.filters = 16, .kernel_size = 3, .padding = "same", .input_shape = {64, 64, 1}}),
                    BatchNormalization(), ReLU(), GlobalAveragePooling2D(), Dense(3, "softmax")});
  model.compile({.optimizer = "adam", .metrics = {"accuracy"}});
  scramble_weights(model, 8);
  Tensor x = testing::random_tensor({12, 64, 64}, 9, 0.0f, 1.0f);
  Tensor whole = model.predict(x, {.batch_size = 12});
  Tensor one = model.predict(x, {.batch_size = 1});
  ASSERT_EQ(whole.shape(), one.shape());
  EXPECT_TRUE(std::equal(whole.data(), whole.data() + whole.size(), one.data()));
  std::vector<int32_t> y(12);
  for (size_t i = 0; i < y.size(); ++i) y[i] = static_cast<int32_t>(i % 3);
  Logs sliced = model.evaluate(x, y, {.batch_size = 12, .verbose = 0});
  Logs single = model.evaluate(x, y, {.batch_size = 1, .verbose = 0});
  EXPECT_NEAR(sliced.at("loss"), single.at("loss"), 1e-6);
  EXPECT_EQ(sliced.at("accuracy"), single.at("accuracy"));
}

}  // namespace
}  // namespace kiln
