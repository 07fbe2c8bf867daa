// Saving and loading convolutional networks: Keras's config keys and weight names, predictions
// bit-identical after loading, and malformed configs rejected with the layer and value named.
#include "helpers.hpp"

namespace kiln {
namespace {

Sequential every_cnn_layer() {
  using namespace layers;
  return Sequential({RandomTranslation({.height_factor = 0.1, .width_factor = {-0.2, 0.1}, .fill_mode = "constant",
                                        .input_shape = {10, 10, 1}}),
                     RandomFlip("horizontal"), RandomRotation(0.05), RandomZoom(0.1), Rescaling(2.0, -1.0),
                     ZeroPadding2D(Padding2D(1, 0, 0, 1)),
                     Conv2D({.filters = 4, .kernel_size = {3, 2}, .padding = "same", .use_bias = false}),
                     BatchNormalization({.momentum = 0.9}), ReLU({.max_value = 6.0}), MaxPooling2D(),
                     Conv2D({.filters = 5, .kernel_size = 2, .dilation_rate = 2, .activation = "relu"}),
                     AveragePooling2D({.pool_size = 2, .strides = 1, .padding = "same"}), SpatialDropout2D(0.1),
                     Activation("tanh"), Reshape({-1, 5}), Flatten(), Dropout(0.2), Dense(3, "softmax")});
}

TEST(CnnIo, SavedCnnsLoadAndPredictBitIdentically) {
  utils::set_random_seed(3);
  Sequential model = every_cnn_layer();
  model.compile({.optimizer = "adam", .metrics = {"accuracy"}});
  Tensor x = testing::random_tensor({40, 10, 10}, 4, 0.0f, 1.0f);
  std::vector<int32_t> y(40);
  for (size_t i = 0; i < y.size(); ++i) y[i] = static_cast<int32_t>(i % 3);
  model.fit(x, y, {.epochs = 2, .batch_size = 8, .verbose = 0});
  testing::TempDir dir;
  model.save(dir.path());
  Model loaded = load_model(dir.path());
  Tensor a = model.predict(x), b = loaded.predict(x);
  ASSERT_EQ(a.shape(), b.shape());
  EXPECT_TRUE(std::equal(a.data(), a.data() + a.size(), b.data()));
  EXPECT_EQ(loaded.count_params(), model.count_params());

  auto config = nlohmann::json::parse(io::read_file(dir / "config.json"));
  const auto& layers = config["config"]["layers"];
  auto find = [&](const std::string& name) {
    for (const auto& l : layers)
      if (l["config"]["name"] == name) return l;
    return nlohmann::json();
  };
  EXPECT_EQ(find("conv2d")["config"]["kernel_size"], nlohmann::json({3, 2}));
  EXPECT_EQ(find("conv2d")["config"]["padding"], "same");
  EXPECT_EQ(find("conv2d_1")["config"]["dilation_rate"], nlohmann::json({2, 2}));
  EXPECT_EQ(find("batch_normalization")["config"]["momentum"], 0.9);
  EXPECT_EQ(find("average_pooling2d")["config"]["strides"], nlohmann::json({1, 1}));
  EXPECT_EQ(find("zero_padding2d")["config"]["padding"], nlohmann::json({{1, 0}, {0, 1}}));
  EXPECT_EQ(find("random_translation")["config"]["width_factor"], nlohmann::json({-0.2, 0.1}));
  auto weights = io::read_safetensors(dir / "model.safetensors");
  EXPECT_EQ(weights.at("conv2d/kernel").shape(), (Shape{3, 2, 1, 4}));
  EXPECT_EQ(weights.count("conv2d/bias"), 0u);
  EXPECT_EQ(weights.at("conv2d_1/kernel").shape(), (Shape{2, 2, 4, 5}));
  for (const char* w : {"gamma", "beta", "moving_mean", "moving_variance"})
    EXPECT_EQ(weights.at(std::string("batch_normalization/") + w).shape(), (Shape{4})) << w;
  // The moving statistics moved in fit, and were saved.
  EXPECT_NE(weights.at("batch_normalization/moving_variance")[0], 1.0f);
}

TEST(CnnIo, ATwentyEightByTwentyEightByOneInputTakesTheDatasetsImagesAsTheyAre) {
  Sequential model({layers::Conv2D({.filters = 2, .kernel_size = 3, .input_shape = {28, 28, 1}}), layers::Flatten(),
                    layers::Dense(10, "softmax")});
  model.compile({.optimizer = "sgd"});
  ByteTensor images({3, 28, 28});
  Tensor a = model.predict(images);
  ByteTensor channels({3, 28, 28, 1});
  Tensor b = model.predict(channels);
  EXPECT_TRUE(std::equal(a.data(), a.data() + a.size(), b.data()));
  EXPECT_THROW(model.predict(ByteTensor({3, 28, 27})), ShapeError);
}

TEST(CnnIo, LayerOutputIsWhatTheLayerComputesInPredict) {
  utils::set_random_seed(5);
  Sequential model({layers::Conv2D({.filters = 3, .kernel_size = 3, .activation = "relu", .input_shape = {8, 8, 1}}),
                    layers::MaxPooling2D(), layers::Flatten(), layers::Dense(4, "softmax")});
  Tensor x = testing::random_tensor({5, 8, 8}, 6, 0.0f, 1.0f);
  Tensor maps = model.layer_output(x, "conv2d");
  EXPECT_EQ(maps.shape(), (Shape{5, 6, 6, 3}));
  for (int64_t i = 0; i < maps.size(); ++i) ASSERT_GE(maps[i], 0.0f);  // after its ReLU
  Tensor last = model.layer_output(x, "dense"), probs = model.predict(x);
  EXPECT_TRUE(std::equal(last.data(), last.data() + last.size(), probs.data()));
  // The pooled maps are the maxima of the maps.
  Tensor pooled = model.layer_output(x, "max_pooling2d");
  EXPECT_EQ(pooled[0], std::max({maps[0], maps[3], maps[18], maps[21]}));
  EXPECT_THROW(model.layer_output(x, "conv"), ValueError);
}

std::string load_error(const std::string& layer_json) {
  nlohmann::json config = nlohmann::json::parse(R"({"class_name": "Sequential", "config": {"name": "m", "layers": [
      {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 6, 6, 1], "name": "in"}}, )" + layer_json +
                                                "]}}");
  try {
    io::model_from_config(config, "config.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(CnnIo, MalformedConfigsNameTheLayerAndTheValue) {
  struct Case {
    const char* json;
    std::vector<const char*> parts;
  };
  const std::vector<Case> cases = {
      {R"({"class_name": "Conv2D", "config": {"name": "wide", "filters": 2, "kernel_size": 7}})",
       {"'wide'", "larger than the input"}},
      {R"({"class_name": "Conv2D", "config": {"name": "none", "filters": 0, "kernel_size": 3}})",
       {"'none'", "filters=0"}},
      {R"({"class_name": "Conv2D", "config": {"name": "pad", "filters": 2, "kernel_size": 3, "padding": "full"}})",
       {"'pad'", "\"full\""}},
      {R"({"class_name": "Conv2D", "config": {"name": "k", "filters": 2, "kernel_size": [3]}})",
       {"'k'", "kernel_size"}},
      {R"({"class_name": "Conv2D", "config": {"name": "nchw", "filters": 2, "kernel_size": 3, "data_format": "channels_first"}})",
       {"'nchw'", "channels_first"}},
      {R"({"class_name": "Dropout", "config": {"name": "drop", "rate": -0.5}})", {"'drop'", "rate=-0.5"}},
      {R"({"class_name": "MaxPooling2D", "config": {"name": "pool", "pool_size": 2, "padding": "causal"}})",
       {"'pool'", "\"causal\""}},
      {R"({"class_name": "BatchNormalization", "config": {"name": "bn", "axis": 1}})", {"'bn'", "axis=1"}},
      {R"({"class_name": "RandomFlip", "config": {"name": "flip", "mode": "diagonal"}})", {"'flip'", "\"diagonal\""}},
      {R"({"class_name": "RandomZoom", "config": {"name": "zoom", "height_factor": "lots"}})",
       {"'zoom'", "height_factor", "\"lots\""}},
  };
  for (const auto& c : cases) {
    const std::string got = load_error(c.json);
    for (const char* part : c.parts) EXPECT_NE(got.find(part), std::string::npos) << c.json << "\n -> " << got;
  }
}

}  // namespace
}  // namespace kiln
