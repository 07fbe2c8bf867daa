// The architectures `kiln train --model NAME` builds, with the training settings each was tuned
// for: the tutorial's MLP (SGD at a constant rate, batch 32, 30 epochs) and two convolutional
// networks (Adam, batch 64: cnn at a constant rate, ending on the moving average of its weights;
// cnn-bn with the rate falling along a cosine to zero over the run) and a small residual network
// (SGD with Nesterov momentum, batch 128, a warm-up epoch then a cosine to zero, label smoothing).
#pragma once

#include <kiln/kiln.hpp>
#include <string>

namespace kiln::cli {

struct RecipeSettings {
  std::string optimizer;
  int epochs;
  int64_t batch_size;
  std::string schedule;  // as --schedule names it
  bool use_ema = false;  // the optimizer's use_ema (momentum 0.99)
  nlohmann::json optimizer_args = nlohmann::json::object();  // Keras arguments other than the defaults
  int warmup_epochs = 0;
  double label_smoothing = 0.0;  // > 0: CategoricalCrossentropy with this label_smoothing
};

// The names --model accepts besides a file.
inline const char* kRecipeNames = "mlp, cnn, cnn-bn, resnet";
bool is_recipe(const std::string& name);
// A built-in architecture's settings; the mlp's for any other name (an architecture file).
RecipeSettings recipe_settings(const std::string& name);
// Keras's CategoricalCrossentropy with this label_smoothing, on the integer labels: the loss of
// a recipe (or a run) that smooths its labels.
nlohmann::json smoothed_loss(double label_smoothing);
// A built-in architecture for the per-sample image shape `input` (H, W) and `classes` classes.
Model recipe_model(const std::string& name, const Shape& input, int64_t classes);

}  // namespace kiln::cli
