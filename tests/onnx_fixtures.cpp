// Writes what tests/onnx_test.py checks ONNX export against: models trained briefly on
// Fashion-MNIST (so that batch normalization's statistics are not their initial values) and
// saved, 1,000 test images as the models take them (float32, scaled by 1/255), and kiln's
// predictions for them (what kiln predict computes). The models: kiln train's mlp, cnn, cnn-bn
// and resnet, "every_layer", a functional model that uses every layer ONNX export maps, and
// "capped_relu" (ReLU with max_value).
// Usage: onnx_fixtures DIR   (writes DIR/<model>/, DIR/images.f32, DIR/<model>.kiln.f32)
#include <fstream>
#include <iostream>

#include "kiln/kiln.hpp"
#include "train_recipe.hpp"

namespace {

using namespace kiln;
using namespace kiln::layers;

Model every_layer() {
  auto image = Input({28, 28, 1}, "image");
  auto x = Rescaling(2.0, -1.0)(image);
  x = RandomFlip("horizontal")(x);
  x = RandomCrop(24, 24)(x);
  auto a = Conv2D({.filters = 4, .kernel_size = 3, .strides = 2, .padding = "same"})(x);
  a = BatchNormalization()(a);  // folded into the Conv2D
  a = ReLU()(a);
  auto b = AveragePooling2D({.pool_size = 3, .strides = 2, .padding = "same"})(x);
  b = Conv2D(4, 1, "tanh")(b);
  auto merged = Concatenate()({Add()({a, b}), Subtract()({a, b}), Multiply()({a, b}), Maximum()({a, b}),
                               Minimum()({a, b}), Average()({a, b})});
  auto c = ZeroPadding2D({1, 0, 2, 1})(merged);  // 15 x 15
  c = MaxPooling2D({.pool_size = 2, .padding = "same"})(c);  // 8 x 8
  c = Conv2D({.filters = 8, .kernel_size = 3, .padding = "same", .dilation_rate = 2, .activation = "relu"})(c);
  c = BatchNormalization()(c);  // after a relu: an operator
  c = SpatialDropout2D(0.1)(c);
  auto pooled = Concatenate()({Activation("sigmoid")(GlobalAveragePooling2D()(c)), GlobalMaxPooling2D()(c), Flatten()(c)});
  auto d = Dense(16)(pooled);
  d = BatchNormalization()(d);  // folded into the Dense
  d = ReLU({.negative_slope = 0.1})(d);
  d = Dropout(0.2)(d);
  auto r = Activation("softmax")(Reshape({4, 4})(d));  // over all 16 values of a sample
  auto out = Dense(10, "softmax")(Flatten()(r));
  return Model(image, out, "every_layer");
}

// ReLU capped at max_value, exported as Clip with its bounds as inputs: the onnx checker reads
// it, OpenCV 4.6 does not (it takes Clip's opset-6 form only).
Model capped_relu() {
  auto image = Input({28, 28, 1}, "image");
  auto x = ReLU({.max_value = 0.5})(Conv2D(2, 3)(image));
  x = ReLU({.max_value = 1.0, .negative_slope = 0.2})(Conv2D(2, 3)(x));
  return Model(image, Dense(10, "softmax")(Flatten()(x)), "capped_relu");
}

void write_floats(const std::filesystem::path& path, const Tensor& t) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(t.data()), static_cast<std::streamsize>(4 * t.size()));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: onnx_fixtures DIR\n";
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);
  utils::set_random_seed(7);
  auto [train, test] = datasets::fashion_mnist::load_data();
  const Tensor x = train.images.slice(0, 2000).astype<float>() / 255.0f;
  const Labels y(train.labels.slice(0, 2000));
  Tensor images = test.images.slice(0, 1000).astype<float>() / 255.0f;
  images = images.reshape({1000, 28, 28, 1});
  write_floats(dir / "images.f32", images);
  for (const std::string name : {"mlp", "cnn", "cnn-bn", "resnet", "every_layer", "capped_relu"}) {
    cli::TrainRecipe recipe;
    recipe.model = name;
    Model model = name == "every_layer"   ? every_layer()
                  : name == "capped_relu" ? capped_relu()
                                          : cli::build_model(recipe, {28, 28, 1}, 10, "fashion-mnist");
    model.compile({.optimizer = "adam", .metrics = {"accuracy"}});
    const bool grey = model.input_shape().size() == 2;  // the MLP takes (28, 28)
    model.fit(grey ? x.reshape({2000, 28, 28}) : x.reshape({2000, 28, 28, 1}), y, {.epochs = 1, .batch_size = 64, .verbose = 0});
    model.preprocessing.rescale = 1.0 / 255;
    model.class_names = datasets::fashion_mnist::class_names();
    model.save(dir / name);
    write_floats(dir / (name + ".kiln.f32"), model.predict(grey ? images.reshape({1000, 28, 28}) : images));
    std::cout << name << ": " << model.count_params() << " weights\n";
  }
  return 0;
}
