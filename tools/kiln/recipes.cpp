#include "recipes.hpp"

namespace kiln::cli {

bool is_recipe(const std::string& name) { return name == "mlp" || name == "cnn" || name == "cnn-bn"; }

RecipeSettings recipe_settings(const std::string& name) {
  if (name == "cnn") return {"adam", 10, 64, "constant", true};
  if (name == "cnn-bn") return {"adam", 60, 64, "cosine"};
  return {"sgd", 30, 32, "constant"};
}

Model recipe_model(const std::string& name, const Shape& input, int64_t classes) {
  using namespace layers;
  if (name == "mlp") return Sequential({Flatten(input), Dense(300, "relu"), Dense(100, "relu"), Dense(classes, "softmax")});
  const Shape image = {input[0], input[1], 1};
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
