// Saving and loading: the folder layout, Keras-shaped config.json, bit-for-bit predictions, and
// clear errors for broken folders.
#include <cstring>

#include "helpers.hpp"

namespace kiln {
namespace {

using layers::Dense, layers::Flatten;

Sequential trained_model() {
  utils::set_random_seed(9);
  Sequential model({Flatten({4, 3}), Dense(5, "relu"), Dense(3, "softmax")});
  model.compile({.optimizer = optimizers::SGD({.learning_rate = 0.1, .momentum = 0.9}), .metrics = {"accuracy"}});
  Tensor x = testing::random_tensor({16, 4, 3}, 3);
  std::vector<int32_t> y(16);
  for (int i = 0; i < 16; ++i) y[i] = i % 3;
  model.fit(x, y, {.epochs = 2, .batch_size = 4, .verbose = 0, .seed = 1});
  model.class_names = {"a", "b", "c"};
  model.preprocessing.rescale = 1.0 / 255.0;
  return model;
}

TEST(ModelIo, LoadedModelPredictsBitForBit) {
  testing::TempDir dir;
  Sequential model = trained_model();
  model.save(dir.path());
  Sequential loaded = load_model(dir.path());
  Tensor x = testing::random_tensor({7, 4, 3}, 4);
  Tensor a = model.predict(x), b = loaded.predict(x);
  ASSERT_EQ(a.shape(), b.shape());
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), sizeof(float) * a.size()));
  EXPECT_EQ(loaded.class_names, model.class_names);
  EXPECT_DOUBLE_EQ(loaded.preprocessing.rescale, 1.0 / 255.0);
  ASSERT_TRUE(loaded.compiled());
  EXPECT_EQ(loaded.optimizer()->config(), model.optimizer()->config());
  EXPECT_EQ(loaded.metric_names(), std::vector<std::string>{"accuracy"});
}

TEST(ModelIo, ConfigAndWeightsAreLaidOutAsKerasDoes) {
  testing::TempDir dir;
  trained_model().save(dir.path());
  auto config = nlohmann::json::parse(io::read_file(dir / "config.json"));
  EXPECT_EQ(config["class_name"], "Sequential");
  const auto& layers = config["config"]["layers"];
  ASSERT_EQ(layers.size(), 4u);
  EXPECT_EQ(layers[0]["class_name"], "InputLayer");
  EXPECT_EQ(layers[0]["config"]["batch_input_shape"], nlohmann::json({nullptr, 4, 3}));
  EXPECT_EQ(layers[1]["config"]["name"], "flatten");
  EXPECT_EQ(layers[2]["class_name"], "Dense");
  EXPECT_EQ(layers[2]["config"]["name"], "dense");
  EXPECT_EQ(layers[2]["config"]["units"], 5);
  EXPECT_EQ(layers[2]["config"]["activation"], "relu");
  EXPECT_EQ(layers[2]["config"]["kernel_initializer"]["class_name"], "GlorotUniform");
  EXPECT_EQ(layers[3]["config"]["name"], "dense_1");
  EXPECT_EQ(config["compile_config"]["optimizer"]["class_name"], "SGD");
  EXPECT_EQ(config["compile_config"]["loss"]["class_name"], "SparseCategoricalCrossentropy");
  auto weights = io::read_safetensors(dir / "model.safetensors");
  EXPECT_EQ(weights.at("dense/kernel").shape(), (Shape{12, 5}));
  EXPECT_EQ(weights.at("dense/bias").shape(), (Shape{5}));
  EXPECT_EQ(weights.at("dense_1/kernel").shape(), (Shape{5, 3}));
  EXPECT_EQ(weights.size(), 4u);
  EXPECT_EQ(config["kiln_version"], KILN_PROJECT_VERSION);  // CMake's project(VERSION)
}

void expect_load_error(const testing::TempDir& dir, const std::string& reason) {
  try {
    load_model(dir.path());
    FAIL() << "loaded a broken model; expected: " << reason;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(reason), std::string::npos) << "expected '" << reason << "' in: " << e.what();
  }
}

TEST(ModelIo, BrokenFoldersAreExplained) {
  testing::TempDir dir;
  expect_load_error(dir, "config.json");  // nothing there
  Sequential model = trained_model();
  model.save(dir.path());
  auto good = nlohmann::json::parse(io::read_file(dir / "config.json"));

  testing::write_bytes(dir / "config.json", "{\"class_name\": ");
  expect_load_error(dir, "not valid JSON");
  // A number no double holds is refused as well (nlohmann reports it as out_of_range).
  testing::write_bytes(dir / "config.json", "{\"class_name\": 1e999}");
  expect_load_error(dir, "not valid JSON");

  auto unknown = good;
  unknown["config"]["layers"][2]["class_name"] = "Conv3D";
  testing::write_bytes(dir / "config.json", unknown.dump());
  expect_load_error(dir, "unknown layer class 'Conv3D'");

  auto no_units = good;
  no_units["config"]["layers"][2]["config"].erase("units");
  testing::write_bytes(dir / "config.json", no_units.dump());
  expect_load_error(dir, "missing field 'units'");

  auto bad_units = good;
  bad_units["config"]["layers"][2]["config"]["units"] = "five";
  testing::write_bytes(dir / "config.json", bad_units.dump());
  expect_load_error(dir, "'units' must be a positive integer, received \"five\"");

  auto wider = good;
  wider["config"]["layers"][2]["config"]["units"] = 6;
  testing::write_bytes(dir / "config.json", wider.dump());
  expect_load_error(dir, "has shape [12, 5], the model expects [12, 6]");

  testing::write_bytes(dir / "config.json", good.dump());
  auto weights = io::read_safetensors(dir / "model.safetensors");
  weights.erase("dense_1/bias");
  io::write_safetensors(dir / "model.safetensors", weights);
  expect_load_error(dir, "missing weight 'dense_1/bias'");

  weights["dense_1/bias"] = Tensor({3});
  weights["stray/kernel"] = Tensor({2});
  io::write_safetensors(dir / "model.safetensors", weights);
  expect_load_error(dir, "'stray/kernel' belongs to no layer");
}

}  // namespace
}  // namespace kiln
