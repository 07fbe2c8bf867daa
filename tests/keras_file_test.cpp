// Keras's files in kiln: .keras written and read back bit for bit, Keras weights files read by
// load_weights, every unsupported item listed at once, and malformed archives and HDF5 files
// refused with errors that name the file and the item. (tests/keras/keras_import_test.py checks
// files laid out as Keras 2 and Keras 3 write them, made with h5py.)
#include <cstring>
#include <functional>

#include "helpers.hpp"
#include "io/hdf5.hpp"
#include "io/keras.hpp"

namespace kiln {
namespace {

using namespace kiln::layers;

Model cnn_with_merges() {
  utils::set_random_seed(5);
  auto image = Input({8, 8, 1}, "image");
  auto x = Conv2D({.filters = 3, .kernel_size = 3, .padding = "same", .activation = "relu"})(image);
  x = BatchNormalization()(x);
  auto y = Conv2D({.filters = 3, .kernel_size = 1})(image);
  auto merged = Concatenate()({Add()({x, y}), y});
  auto out = Dense(4, "softmax")(Flatten()(MaxPooling2D()(merged)));
  Model model(image, out, "merges");
  // Batch normalization's statistics away from their initial 0 and 1.
  for (auto& layer : model.layers())
    for (auto& p : layer->params())
      if (p.name == "moving_variance")
        for (int64_t i = 0; i < p.value.size(); ++i)
          p.value[i] = 0.5f + 0.1f * static_cast<float>(i);
  return model;
}

void expect_same_predictions(Model& a, Model& b, const Shape& input) {
  Shape batch = input;
  batch.insert(batch.begin(), 5);
  Tensor x = testing::random_tensor(batch, 11, 0.0f, 1.0f);
  Tensor pa = a.predict(x), pb = b.predict(x);
  ASSERT_EQ(pa.shape(), pb.shape());
  EXPECT_EQ(0, std::memcmp(pa.data(), pb.data(), sizeof(float) * pa.size()));
}

template <typename Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(KerasFile, SnakeCaseNamesAsKerasDoes) {
  EXPECT_EQ(io::keras_snake_case("Dense"), "dense");
  EXPECT_EQ(io::keras_snake_case("Conv2D"), "conv2d");
  EXPECT_EQ(io::keras_snake_case("BatchNormalization"), "batch_normalization");
  EXPECT_EQ(io::keras_snake_case("MaxPooling2D"), "max_pooling2d");
  EXPECT_EQ(io::keras_snake_case("GlobalAveragePooling2D"), "global_average_pooling2d");
  EXPECT_EQ(io::keras_snake_case("ReLU"), "re_lu");
  EXPECT_EQ(io::keras_snake_case("InputLayer"), "input_layer");
}

TEST(KerasFile, SavedKerasArchiveLoadsBitForBit) {
  testing::TempDir dir;
  for (bool functional : {false, true}) {
    utils::set_random_seed(3);
    Model model =
        functional
            ? cnn_with_merges()
            : Sequential({Flatten(FlattenOptions{{6, 5}}), Dense(7, "relu"), Dense(3, "softmax")});
    model.compile({.metrics = {"accuracy"}});
    const auto path = dir.path() / (functional ? "f.keras" : "s.keras");
    model.save(path);
    EXPECT_TRUE(io::is_keras_file(path));
    Model loaded = load_model(path);
    expect_same_predictions(model, loaded, model.input_shape());
    EXPECT_EQ(loaded.class_name(), model.class_name());
    EXPECT_TRUE(loaded.compiled());
    EXPECT_EQ(loaded.metadata.at("rescale"), "1/255 (assumed: the file records no preprocessing)");
    EXPECT_DOUBLE_EQ(loaded.preprocessing.rescale, 1.0 / 255.0);
  }
}

TEST(KerasFile, ArchiveHoldsKerasMembersInKerasOrder) {
  testing::TempDir dir;
  Model model = cnn_with_merges();
  model.save(dir.path() / "m.keras");
  auto members = io::read_archive_members(
      dir.path() / "m.keras", {{"metadata.json"}, {"config.json"}, {"model.weights.h5"}});
  const auto config = nlohmann::json::parse(members["config.json"]);
  EXPECT_EQ(config["class_name"], "Functional");
  EXPECT_EQ(config["config"]["layers"][1]["module"], "keras.layers");
  EXPECT_EQ(config["config"]["layers"][1]["config"]["dtype"]["class_name"], "DTypePolicy");
  EXPECT_EQ(config["config"]["layers"][1]["inbound_nodes"][0]["args"][0]["class_name"],
            "__keras_tensor__");
  const auto file =
      io::h5::File::open_image(members["model.weights.h5"], "m.keras model.weights.h5");
  EXPECT_EQ(file.members("layers"),
            (std::vector<std::string>{"batch_normalization", "conv2d", "conv2d_1", "dense"}));
  EXPECT_EQ(file.dataset_shape("layers/conv2d/vars/0"), (Shape{3, 3, 1, 3}));
  EXPECT_EQ(file.members("layers/batch_normalization/vars").size(), 4u);
}

TEST(KerasFile, LoadWeightsReadsKerasWeightsFiles) {
  testing::TempDir dir;
  Model model = cnn_with_merges();
  model.save(dir.path() / "m.keras");
  auto members = io::read_archive_members(dir.path() / "m.keras", {{"model.weights.h5"}});
  testing::write_bytes(dir.path() / "m.weights.h5", members["model.weights.h5"]);
  Model fresh = clone_model(model);
  fresh.load_weights(dir.path() / "m.weights.h5");
  expect_same_predictions(model, fresh, model.input_shape());
  // The architecture must agree: a model with another Dense width is refused, naming the dataset.
  utils::set_random_seed(1);
  auto image = Input({8, 8, 1}, "image");
  auto x = Conv2D({.filters = 3, .kernel_size = 3, .padding = "same", .activation = "relu"})(image);
  x = BatchNormalization()(x);
  auto y = Conv2D({.filters = 3, .kernel_size = 1})(image);
  Model other(image,
              Dense(5, "softmax")(Flatten()(MaxPooling2D()(Concatenate()({Add()({x, y}), y})))));
  const std::string msg = error_of([&] { other.load_weights(dir.path() / "m.weights.h5"); });
  EXPECT_NE(msg.find("layers/dense/vars/0"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[96, 4]"), std::string::npos) << msg;
}

nlohmann::json keras_layer(const std::string& cls, nlohmann::json config) {
  return {{"module", "keras.layers"},
          {"class_name", cls},
          {"config", config},
          {"registered_name", nullptr}};
}

TEST(KerasFile, EveryUnsupportedItemIsListedAtOnce) {
  nlohmann::json layers = nlohmann::json::array(
      {keras_layer(
           "InputLayer",
           {{"batch_shape", {nullptr, 28, 28}}, {"dtype", "float32"}, {"name", "input_layer"}}),
       keras_layer("LSTM", {{"name", "lstm"}, {"units", 8}}),
       keras_layer("Dense", {{"name", "dense"}, {"units", 8}, {"activation", "elu"}}),
       keras_layer("Dense", {{"name", "dense_1"},
                             {"units", 8},
                             {"activation", "relu"},
                             {"kernel_constraint",
                              {{"class_name", "MaxNorm"}, {"config", {{"max_value", 2}}}}}}),
       keras_layer("Conv2D", {{"name", "conv2d"},
                              {"filters", 2},
                              {"kernel_size", 3},
                              {"data_format", "channels_first"}}),
       {{"module", "my_package"},
        {"class_name", "Gate"},
        {"config", {{"name", "gate"}}},
        {"registered_name", "Custom>Gate"}},
       keras_layer("Dense", {{"name", "out"},
                             {"units", 10},
                             {"activation", "softmax"},
                             {"kernel_constraint", nullptr},
                             {"lora_rank", nullptr}})});
  nlohmann::json config = {{"class_name", "Sequential"},
                           {"config", {{"name", "s"}, {"layers", layers}}}};
  const std::string msg =
      error_of([&] { io::keras_model_config(config, "bad.keras config.json"); });
  for (const char* item :
       {"bad.keras config.json: kiln cannot run 5 items",
        "layer 'lstm' (LSTM): kiln has no such layer", "layer 'dense' (Dense): activation 'elu'",
        "layer 'dense_1' (Dense): option 'kernel_constraint'",
        "layer 'conv2d' (Conv2D): data_format \"channels_first\"",
        "layer 'gate' (Gate): a custom layer registered as 'Custom>Gate'",
        "kiln's layers: ", "its activations: linear, relu"})
    EXPECT_NE(msg.find(item), std::string::npos) << item << "\n" << msg;
  EXPECT_EQ(msg.find("'out'"), std::string::npos) << msg;  // null options are Keras's defaults
}

// A zip of (name, bytes) members, deflated.
std::string zip(const std::vector<std::pair<std::string, std::string>>& members) {
  return testing::archive_bytes(members, "zip");
}

class KerasMalformed : public ::testing::Test {
 protected:
  void SetUp() override {
    utils::set_random_seed(2);
    Sequential model({Flatten(FlattenOptions{{4, 4}}), Dense(3, "relu"), Dense(2, "softmax")});
    model.save(dir.path() / "good.keras");
    good = io::read_archive_members(dir.path() / "good.keras",
                                    {{"metadata.json"}, {"config.json"}, {"model.weights.h5"}});
  }
  std::string load_error(const std::string& name, const std::string& bytes) {
    testing::write_bytes(dir.path() / name, bytes);
    return error_of([&] { load_model(dir.path() / name); });
  }
  testing::TempDir dir;
  std::map<std::string, std::string> good;
};

TEST_F(KerasMalformed, TruncatedArchive) {
  const std::string bytes = io::read_file(dir.path() / "good.keras");
  for (size_t keep : {size_t{10}, bytes.size() / 2, bytes.size() - 30}) {
    const std::string msg = load_error("cut.keras", bytes.substr(0, keep));
    EXPECT_NE(msg.find("cut.keras"), std::string::npos) << msg;
  }
}

TEST_F(KerasMalformed, MissingMemberListsWhatIsThere) {
  const std::string msg = load_error("m.keras", zip({{"config.json", good["config.json"]}}));
  EXPECT_NE(msg.find("m.keras: the archive has no member 'model.weights.h5'; it holds config.json"),
            std::string::npos)
      << msg;
}

TEST_F(KerasMalformed, ConfigThatIsNotJson) {
  const std::string msg = load_error(
      "j.keras",
      zip({{"config.json", "{\"class_name\": "}, {"model.weights.h5", good["model.weights.h5"]}}));
  EXPECT_NE(msg.find("j.keras config.json: not valid JSON"), std::string::npos) << msg;
}

TEST_F(KerasMalformed, ZipBombIsRefusedBeforeItUnpacks) {
  // 80 MiB of spaces deflate to about 80 KiB; kiln reads at most 64 MiB of config.
  const std::string msg =
      load_error("bomb.keras", zip({{"config.json", std::string(80u << 20, ' ')}}));
  EXPECT_NE(msg.find("bomb.keras: member 'config.json' holds"), std::string::npos) << msg;
}

TEST_F(KerasMalformed, WeightsThatAreNotHdf5) {
  const std::string msg = load_error(
      "w.keras", zip({{"config.json", good["config.json"]}, {"model.weights.h5", "GIF89a"}}));
  EXPECT_NE(msg.find("w.keras model.weights.h5: not an HDF5 file"), std::string::npos) << msg;
  const std::string cut =
      load_error("c.keras", zip({{"config.json", good["config.json"]},
                                 {"model.weights.h5", good["model.weights.h5"].substr(0, 900)}}));
  EXPECT_NE(cut.find("c.keras model.weights.h5"), std::string::npos) << cut;
}

std::string weights_with(const std::function<void(io::h5::File&)>& fill) {
  auto file = io::h5::File::create_in_memory("made.h5");
  fill(file);
  return file.image();
}

TEST_F(KerasMalformed, MisshapedAndMissingWeightsNameTheDataset) {
  std::string misshaped = weights_with([](io::h5::File& f) {
    f.write_floats("layers/dense/vars/0", Tensor({16, 4}));
    f.write_floats("layers/dense/vars/1", Tensor({3}));
    f.write_floats("layers/dense_1/vars/0", Tensor({3, 2}));
    f.write_floats("layers/dense_1/vars/1", Tensor({2}));
  });
  std::string msg = load_error(
      "shape.keras", zip({{"config.json", good["config.json"]}, {"model.weights.h5", misshaped}}));
  EXPECT_NE(msg.find("dataset 'layers/dense/vars/0' has shape [16, 4], the model expects [16, 3]"),
            std::string::npos)
      << msg;
  std::string missing = weights_with([](io::h5::File& f) {
    f.write_floats("layers/dense/vars/0", Tensor({16, 3}));
    f.write_floats("layers/dense/vars/1", Tensor({3}));
  });
  msg = load_error("missing.keras",
                   zip({{"config.json", good["config.json"]}, {"model.weights.h5", missing}}));
  EXPECT_NE(msg.find("no group 'layers/dense_1' for layer 'dense_1' (Dense)"), std::string::npos)
      << msg;
  std::string short_layer = weights_with([](io::h5::File& f) {
    f.write_floats("layers/dense/vars/0", Tensor({16, 3}));
    f.write_floats("layers/dense_1/vars/0", Tensor({3, 2}));
    f.write_floats("layers/dense_1/vars/1", Tensor({2}));
  });
  msg = load_error("short.keras",
                   zip({{"config.json", good["config.json"]}, {"model.weights.h5", short_layer}}));
  EXPECT_NE(msg.find("'layers/dense' holds 1 weights, layer 'dense' (Dense) has 2 (kernel, bias)"),
            std::string::npos)
      << msg;
}

TEST_F(KerasMalformed, Hdf5FilesThatAreNotModels) {
  testing::write_bytes(dir.path() / "w.h5", good["model.weights.h5"]);
  std::string msg = error_of([&] { load_model(dir.path() / "w.h5"); });
  EXPECT_NE(msg.find("w.h5: an HDF5 file without a 'model_config' attribute holds weights only"),
            std::string::npos)
      << msg;
  const std::string cut = good["model.weights.h5"].substr(0, 700);
  msg = load_error("cut.h5", cut);
  EXPECT_NE(msg.find("cut.h5"), std::string::npos) << msg;
  msg = load_error("text.h5", "not a model at all");
  EXPECT_NE(msg.find("text.h5: a file that is neither a .keras archive nor an HDF5 .h5 model"),
            std::string::npos)
      << msg;
}

}  // namespace
}  // namespace kiln
