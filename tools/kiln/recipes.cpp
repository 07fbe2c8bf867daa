#include "recipes.hpp"

namespace kiln::cli {

bool is_recipe(const std::string& name) {
  return name == "mlp" || name == "cnn" || name == "cnn-bn" || name == "resnet";
}

RecipeSettings recipe_settings(const std::string& name) {
  if (name == "cnn") return {"adam", 10, 64, "constant", true};
  if (name == "cnn-bn") return {"adam", 60, 64, "cosine"};
  if (name == "resnet")
    return {.optimizer = "sgd",
            .epochs = 30,
            .batch_size = 128,
            .schedule = "cosine",
            .optimizer_args = {{"learning_rate", 0.1}, {"momentum", 0.9}, {"nesterov", true}, {"weight_decay", 5e-3}},
            .warmup_epochs = 1,
            .label_smoothing = 0.1};
  return {"sgd", 30, 32, "constant"};
}

nlohmann::json smoothed_loss(double label_smoothing) {
  return {{"class_name", "CategoricalCrossentropy"}, {"config", {{"label_smoothing", label_smoothing}}}};
}

namespace {

// Conv2D 3x3 "same" without bias, batch-normalized, then ReLU (`relu` false: no ReLU).
SymbolicTensor conv_bn(const SymbolicTensor& x, int64_t filters, bool relu = true) {
  using namespace layers;
  auto y = BatchNormalization()(Conv2D({.filters = filters, .kernel_size = 3, .padding = "same", .use_bias = false})(x));
  return relu ? ReLU()(y) : y;
}

// x + two convolutions of x, then ReLU.
SymbolicTensor residual(const SymbolicTensor& x) {
  using namespace layers;
  return ReLU()(Add()({x, conv_bn(conv_bn(x, x.shape().back()), x.shape().back(), false)}));
}

// The resnet recipe: shifts of up to two pixels and mirror images; a 3x3 stem at full size, then
// three stages that halve (max pooling) and add a residual block, the last two after a widening
// convolution; global average pooling into the classifier. About 17 M multiply-adds an image: most
// of the work runs on 14x14 and smaller maps, where a 28x28 image has little left to resolve.
Model resnet(const Shape& image, int64_t classes) {
  using namespace layers;
  auto inputs = Input(image);
  auto x = RandomTranslation({.height_factor = 0.08, .width_factor = 0.08, .fill_mode = "constant",
                              .interpolation = "nearest"})(inputs);
  x = RandomFlip("horizontal")(x);
  x = residual(MaxPooling2D()(conv_bn(x, 32)));
  x = residual(MaxPooling2D()(conv_bn(x, 64)));
  x = residual(MaxPooling2D()(conv_bn(x, 128)));
  auto outputs = Dense(classes, "softmax")(GlobalAveragePooling2D()(x));
  return Model(inputs, outputs, "resnet");
}

}  // namespace

Model recipe_model(const std::string& name, const Shape& input, int64_t classes) {
  using namespace layers;
  if (name == "mlp") return Sequential({Flatten(input), Dense(300, "relu"), Dense(100, "relu"), Dense(classes, "softmax")});
  // Grey images come as (H, W); the convolutions take (H, W, channels).
  const Shape image = {input[0], input[1], input.size() == 3 ? input[2] : 1};
  if (name == "resnet") return resnet(image, classes);
  if (name == "cnn")
    return Sequential({Conv2D({.filters = 32, .kernel_size = 3, .activation = "relu", .input_shape = image}),
                       MaxPooling2D(), Conv2D(64, 3, "relu"), MaxPooling2D(), Flatten(), Dense(128, "relu"),
                       Dense(classes, "softmax")});
  // cnn-bn: the same network with each convolution batch-normalized before its ReLU and padded
  // ("same": the border pixels reach the classifier, 7x7 maps instead of 5x5), dropout before the
  // classifier, and shifts of a pixel and mirror images of the training images. Trained longer,
  // since augmentation keeps it from fitting the training set.
  return Sequential({RandomTranslation({.height_factor = 0.05, .width_factor = 0.05, .fill_mode = "constant",
                                        .interpolation = "nearest", .input_shape = image}),
                     RandomFlip("horizontal"),
                     Conv2D({.filters = 32, .kernel_size = 3, .padding = "same", .use_bias = false}),
                     BatchNormalization(), ReLU(), MaxPooling2D(),
                     Conv2D({.filters = 64, .kernel_size = 3, .padding = "same", .use_bias = false}),
                     BatchNormalization(), ReLU(), MaxPooling2D(), Flatten(), Dense(128, "relu"), Dropout(0.3),
                     Dense(classes, "softmax")});
}

}  // namespace kiln::cli
