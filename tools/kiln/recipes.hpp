// The architectures `kiln train --model NAME` builds, with the training settings each was tuned
// for: the tutorial's MLP (SGD at a constant rate, batch 32, 30 epochs) and two convolutional
// networks (Adam, batch 64: cnn at a constant rate, ending on the moving average of its weights;
// cnn-bn with the rate falling along a cosine to zero over the run).
#pragma once

#include <kiln/kiln.hpp>
#include <string>

namespace kiln::cli {

struct Recipe {
  Model model;
  std::string optimizer;
  int epochs;
  int64_t batch_size;
  std::string lr_schedule;  // "constant", "cosine" (CosineDecay to 0 over all steps) or "linear"
  bool use_ema = false;     // the optimizer's use_ema (momentum 0.99)
};

// The names --model accepts besides a file.
inline const char* kRecipeNames = "mlp, cnn, cnn-bn";
bool is_recipe(const std::string& name);
// `input` is the per-sample image shape (H, W); `classes` the number of classes.
Recipe make_recipe(const std::string& name, const Shape& input, int64_t classes);

}  // namespace kiln::cli
