// Saving and loading functional models: Keras 2's layout written and read back bit for bit,
// Keras 3's layout read, and malformed configs refused with the layer named.
#include <cstring>

#include "helpers.hpp"

namespace kiln {
namespace {

using layers::Add, layers::Concatenate, layers::Dense, layers::Flatten;

Model two_branch_model() {
  utils::set_random_seed(14);
  auto inputs = Input({3, 4});
  auto x = Flatten()(inputs);
  auto left = Dense(5, "relu")(x);
  auto right = Dense(3, "tanh")(x);
  Dense shared(4, "relu");
  auto joined = Concatenate()({left, right});
  auto h = shared(joined);
  auto again = shared(Dense(8)(h));  // one layer, two calls
  auto outputs = Dense(3, "softmax")(Add()({h, again}));
  Model model(inputs, outputs, "two_branch");
  model.compile({.optimizer = "adam", .metrics = {"accuracy"}});
  model.class_names = {"a", "b", "c"};
  model.preprocessing.rescale = 0.5;
  return model;
}

TEST(FunctionalIo, ALoadedModelPredictsBitForBitAndTrainsOn) {
  testing::TempDir dir;
  Model model = two_branch_model();
  Tensor x = testing::random_tensor({12, 3, 4}, 3);
  std::vector<int32_t> y(12);
  for (int i = 0; i < 12; ++i) y[i] = i % 3;
  model.fit(x, y, {.epochs = 2, .batch_size = 4, .verbose = 0, .seed = 1});
  model.save(dir.path());
  Model loaded = load_model(dir.path());
  EXPECT_EQ(loaded.class_name(), "Functional");
  EXPECT_EQ(loaded.name(), "two_branch");
  Tensor a = model.predict(x), b = loaded.predict(x);
  ASSERT_EQ(a.shape(), b.shape());
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), sizeof(float) * a.size()));
  EXPECT_EQ(loaded.count_params(), model.count_params());
  EXPECT_EQ(loaded.class_names, model.class_names);
  EXPECT_EQ(loaded.metric_names(), std::vector<std::string>{"accuracy"});
  std::vector<std::string> names, loaded_names;
  for (const auto& l : model.layers()) names.push_back(l->name());
  for (const auto& l : loaded.layers()) loaded_names.push_back(l->name());
  EXPECT_EQ(loaded_names, names);
  loaded.fit(x, y, {.epochs = 1, .batch_size = 4, .verbose = 0, .seed = 2});
  EXPECT_THROW(Sequential{load_model(dir.path())}, ValueError) << "a functional folder is not a Sequential";
}

TEST(FunctionalIo, ConfigIsKeras2sFunctionalLayout) {
  testing::TempDir dir;
  two_branch_model().save(dir.path());
  auto config = nlohmann::json::parse(io::read_file(dir / "config.json"));
  EXPECT_EQ(config["class_name"], "Functional");
  const auto& inner = config["config"];
  EXPECT_EQ(inner["input_layers"], nlohmann::json::parse(R"([["input_1", 0, 0]])"));
  EXPECT_EQ(inner["output_layers"], nlohmann::json::parse(R"([["dense_4", 0, 0]])"));
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& layer : inner["layers"]) by_name[layer["name"]] = layer;
  EXPECT_EQ(by_name["input_1"]["class_name"], "InputLayer");
  EXPECT_EQ(by_name["input_1"]["config"]["batch_input_shape"], nlohmann::json::parse("[null, 3, 4]"));
  EXPECT_EQ(by_name["input_1"]["inbound_nodes"], nlohmann::json::array());
  EXPECT_EQ(by_name["concatenate"]["inbound_nodes"],
            nlohmann::json::parse(R"([[["dense", 0, 0, {}], ["dense_1", 0, 0, {}]]])"));
  EXPECT_EQ(by_name["concatenate"]["config"]["axis"], -1);
  // The shared layer: two inbound nodes, and its second call read as node 1.
  EXPECT_EQ(by_name["dense_2"]["inbound_nodes"],
            nlohmann::json::parse(R"([[["concatenate", 0, 0, {}]], [["dense_3", 0, 0, {}]]])"));
  EXPECT_EQ(by_name["add"]["inbound_nodes"], nlohmann::json::parse(R"([[["dense_2", 0, 0, {}], ["dense_2", 1, 0, {}]]])"));
  EXPECT_EQ(by_name["dense"]["config"]["trainable"], true);
}

// The residual MLP as Keras 3 writes it (keras.Model.to_json(), trimmed of nothing kiln needs):
// inbound nodes as {"args", "kwargs"} holding __keras_tensor__ entries, batch_shape, DTypePolicy
// objects, module / registered_name / build_config keys, and input_layers written flat.
const char* kKeras3Config = R"({
  "module": "keras.src.models.functional", "class_name": "Functional", "registered_name": "Functional",
  "config": {
    "name": "functional", "trainable": true,
    "layers": [
      {"module": "keras.layers", "class_name": "InputLayer", "registered_name": null, "name": "input_layer",
       "config": {"batch_shape": [null, 6], "dtype": "float32", "sparse": false, "name": "input_layer"},
       "inbound_nodes": []},
      {"module": "keras.layers", "class_name": "Dense", "registered_name": null, "name": "hidden",
       "build_config": {"input_shape": [null, 6]},
       "config": {"name": "hidden", "trainable": true,
                  "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null},
                  "units": 4, "activation": "relu", "use_bias": true,
                  "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform", "config": {"seed": null}, "registered_name": null},
                  "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": null},
                  "kernel_regularizer": null, "bias_regularizer": null, "kernel_constraint": null, "bias_constraint": null},
       "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 6], "dtype": "float32", "keras_history": ["input_layer", 0, 0]}}], "kwargs": {}}]},
      {"module": "keras.layers", "class_name": "Dense", "registered_name": null, "name": "more",
       "config": {"name": "more", "trainable": false, "dtype": "float32", "units": 4, "activation": "relu"},
       "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 4], "dtype": "float32", "keras_history": ["hidden", 0, 0]}}], "kwargs": {}}]},
      {"module": "keras.layers", "class_name": "Add", "registered_name": null, "name": "add",
       "build_config": {"input_shape": [[null, 4], [null, 4]]},
       "config": {"name": "add", "trainable": true, "dtype": "float32"},
       "inbound_nodes": [{"args": [[{"class_name": "__keras_tensor__", "config": {"shape": [null, 4], "dtype": "float32", "keras_history": ["hidden", 0, 0]}},
                                    {"class_name": "__keras_tensor__", "config": {"shape": [null, 4], "dtype": "float32", "keras_history": ["more", 0, 0]}}]],
                          "kwargs": {}}]},
      {"module": "keras.layers", "class_name": "Dense", "registered_name": null, "name": "probs",
       "config": {"name": "probs", "trainable": true, "dtype": "float32", "units": 3, "activation": "softmax"},
       "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 4], "dtype": "float32", "keras_history": ["add", 0, 0]}}], "kwargs": {}}]}
    ],
    "input_layers": ["input_layer", 0, 0],
    "output_layers": ["probs", 0, 0]
  },
  "build_config": {"input_shape": null}
})";

TEST(FunctionalIo, ReadsKeras3sLayout) {
  Model model = io::model_from_config(nlohmann::json::parse(kKeras3Config), "keras3.json");
  EXPECT_EQ(model.name(), "functional");
  std::vector<std::string> names;
  for (const auto& l : model.layers()) names.push_back(l->name());
  EXPECT_EQ(names, (std::vector<std::string>{"input_layer", "hidden", "more", "add", "probs"}));
  EXPECT_EQ(model.input_shape(), Shape{6});
  EXPECT_FALSE(model.get_layer("more")->trainable);
  EXPECT_EQ(model.count_params(), 28 + 20 + 15);
  EXPECT_EQ(model.count_trainable_params(), 28 + 15);
  // Written back in Keras 2's layout, it reads to the same architecture.
  Model again = io::model_from_config(io::model_config(model), "again");
  EXPECT_EQ(io::model_config(again)["config"], io::model_config(model)["config"]);
}

void expect_config_error(const nlohmann::ordered_json& config, const std::string& reason) {
  try {
    io::model_from_config(nlohmann::json::parse(config.dump()), "model.json");
    FAIL() << "accepted a broken config; expected: " << reason;
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(reason), std::string::npos) << "expected '" << reason << "' in: " << e.what();
  }
}

TEST(FunctionalIo, MalformedConfigsNameTheLayer) {
  const auto good = io::model_config(two_branch_model());
  auto layer_named = [](nlohmann::ordered_json& config, const std::string& name) -> nlohmann::ordered_json& {
    for (auto& layer : config["config"]["layers"])
      if (layer["name"] == name) return layer;
    throw std::runtime_error("no layer " + name);
  };
  auto unknown = good;
  layer_named(unknown, "add")["inbound_nodes"][0][1][0] = "dense_9";
  expect_config_error(unknown, "layer 'add' reads from 'dense_9', which is not a layer of the model");

  auto cycle = good;  // dense reads from dense_2's first call, which reads (through concatenate) from dense
  layer_named(cycle, "dense")["inbound_nodes"] = nlohmann::json::parse(R"([[["dense_2", 0, 0, {}]]])");
  expect_config_error(cycle, "can never run");

  auto missing_output = good;
  missing_output["config"]["output_layers"] = nlohmann::json::parse(R"([["dense_7", 0, 0]])");
  expect_config_error(missing_output, "output_layers names ['dense_7', 0, 0], which is not a layer of the model");

  auto missing_node = good;
  missing_node["config"]["output_layers"] = nlohmann::json::parse(R"([["dense_4", 1, 0]])");
  expect_config_error(missing_node, "which is not a call of that layer");

  auto duplicate = good;
  layer_named(duplicate, "dense_1")["name"] = "dense";
  layer_named(duplicate, "dense")["config"]["name"] = "dense";
  expect_config_error(duplicate, "two layers are named 'dense'");

  auto mismatch = good;  // Add of a 4-wide and a 5-wide tensor
  layer_named(mismatch, "add")["inbound_nodes"] = nlohmann::json::parse(R"([[["dense_2", 0, 0, {}], ["dense", 0, 0, {}]]])");
  expect_config_error(mismatch, "layer 'add': Add 'add' needs inputs of one shape, received shapes [4], [5]");

  auto no_inputs = good;
  no_inputs["config"].erase("input_layers");
  expect_config_error(no_inputs, "missing field 'input_layers'");

  auto bad_node = good;
  layer_named(bad_node, "add")["inbound_nodes"][0][0] = "dense_2";
  expect_config_error(bad_node, "expected a tensor reference [layer name, node index, tensor index]");

  auto bad_trainable = good;
  layer_named(bad_trainable, "dense")["config"]["trainable"] = "no";
  expect_config_error(bad_trainable, "field 'trainable' must be true or false, received \"no\"");

  auto huge = good;  // 2^62 x 2^62 inputs per sample overflow a 64-bit count
  layer_named(huge, "input_1")["config"]["batch_input_shape"] = nlohmann::json::parse("[null, 4611686018427387904, 8]");
  expect_config_error(huge, "have more elements than a 64-bit count holds");

  auto too_big = good;  // a Dense with 2^40 units: 12 TB of weights
  layer_named(too_big, "dense_4")["config"]["units"] = int64_t{1} << 40;
  expect_config_error(too_big, "GiB, more than this machine's");
}

}  // namespace
}  // namespace kiln
