// A `kiln train --model NAME` network (cnn, or resnet with its augmentation layers): one training
// epoch (55,000 images) at the recipe's batch size, optimizer and loss, with the 5,000-image
// validation pass; and inference at batch 1 and 1000. The rate stays constant (a schedule costs
// nothing per step) and cnn's moving average of the weights is left out, as in the PyTorch peer.
// Usage: bench_cnn [repeats] [threads] [fp32|bf16] [cnn|resnet]
#include "common.hpp"
#include "recipes.hpp"

namespace {

// Multiply-adds x 2 of one image's forward pass through the convolutions and Dense layers, and
// of the first convolution alone (whose input gradient training never computes).
struct Flops {
  double forward = 0, first_conv = 0;
};

Flops forward_flops(const kiln::Model& model) {
  Flops f;
  for (const auto& layer : model.layers()) {
    if (layer->class_name() != "Conv2D" && layer->class_name() != "Dense") continue;
    const kiln::Shape& kernel = layer->params()[0].shape;
    const double outputs = static_cast<double>(kiln::shape_size(layer->output_shape()));
    // Each output value takes one multiply-add per kernel row: kh * kw * in (Conv2D), in (Dense).
    const double per_output = static_cast<double>(kiln::shape_size(kernel) / kernel.back());
    const double flops = 2 * outputs * per_output;
    if (f.first_conv == 0 && layer->class_name() == "Conv2D") f.first_conv = flops;
    f.forward += flops;
  }
  return f;
}

std::string flops_field(double flops) { return ", \"flops\": " + std::to_string(flops); }

}  // namespace

int main(int argc, char** argv) {
  using namespace kiln;
  bench::Args args(argc, argv);
  auto [train, test] = datasets::fashion_mnist::load_data();
  auto [x_train, y_train, x_valid, y_valid] = bench::tutorial_split(train);
  utils::set_random_seed(42);
  const std::string net = argc > 4 ? argv[4] : "cnn";
  const cli::RecipeSettings recipe = cli::recipe_settings(net);
  Model model = cli::recipe_model(net, {28, 28}, 10);
  model.preprocessing.rescale = 1.0 / 255.0;
  const nlohmann::json loss = recipe.label_smoothing > 0 ? cli::smoothed_loss(recipe.label_smoothing)
                                                         : nlohmann::json("sparse_categorical_crossentropy");
  model.compile({.loss = LossRef(losses::get(loss)),
                 .optimizer = optimizers::get({{"class_name", recipe.optimizer}, {"config", recipe.optimizer_args}}),
                 .metrics = {"accuracy"}});
  std::vector<double> seconds;
  for (int r = 0; r < args.repeats; ++r)
    seconds.push_back(bench::time_it([&] {
      model.fit(x_train, y_train,
                {.epochs = 1, .batch_size = recipe.batch_size, .validation_data = ValidationData{x_valid, y_valid}, .verbose = 0});
    }));
  // Training: forward, weight gradients and input gradients (three products the size of the
  // forward one), less the first convolution's input gradient; then the validation forward.
  const Flops f = forward_flops(model);
  const double epoch_flops = 55000 * (3 * f.forward - f.first_conv) + 5000 * f.forward;
  bench::report(args.epoch_name(net + " train_epoch"), seconds, flops_field(epoch_flops));
  for (int64_t n : {1, 1000}) {
    ByteTensor x = test.images.slice(0, n);
    const int loops = n == 1 ? 2000 : 10;
    for (int i = 0; i < loops / 10; ++i) model.predict(x, {.batch_size = n});
    std::vector<double> per_call;
    for (int r = 0; r < args.repeats; ++r)
      per_call.push_back(bench::time_it([&] {
                           for (int i = 0; i < loops; ++i) model.predict(x, {.batch_size = n});
                         }) / loops);
    bench::report(args.name(net + (n == 1 ? " predict_1" : " predict_1000")), per_call,
                  flops_field(static_cast<double>(n) * f.forward));
  }
}
