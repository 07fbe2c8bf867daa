// End to end on real data: a few epochs on a slice of Fashion-MNIST must learn far above chance.
#include "helpers.hpp"

namespace kiln {
namespace {

// Test accuracy of the seed model after 5 epochs on 5,400 images, with every layer's products
// in the given dtype policy.
double seed_model_accuracy(const std::string& policy) {
  setenv("KILN_DATASETS", "/nonexistent", 1);
  auto [train, test] = datasets::fashion_mnist::load_data();
  unsetenv("KILN_DATASETS");
  Tensor x = train.images.slice(0, 6000).astype<float>() / 255.0f;
  ByteTensor y = train.labels.slice(0, 6000);
  Tensor x_test = test.images.slice(0, 2000).astype<float>() / 255.0f;
  ByteTensor y_test = test.labels.slice(0, 2000);

  utils::set_random_seed(42);
  Sequential model({layers::Flatten({28, 28}), layers::Dense(300, "relu"), layers::Dense(100, "relu"),
                    layers::Dense(10, "softmax")});
  for (const auto& layer : model.layers()) layer->set_dtype_policy(policy);
  model.compile({.loss = "sparse_categorical_crossentropy", .optimizer = "sgd", .metrics = {"accuracy"}});
  History h = model.fit(x, y, {.epochs = 5, .validation_split = 0.1, .verbose = 0, .seed = 42});
  Logs result = model.evaluate(x_test, y_test, {.verbose = 0});
  std::cout << "  " << policy << ": test accuracy after 5 epochs on 5,400 images: " << result.at("accuracy") << "\n";
  EXPECT_LT(h.history["loss"].back(), h.history["loss"].front());
  return result.at("accuracy");
}

// In float32, and with bf16 products (8 significant bits) summed in float32 on float32 weights,
// which must learn as well.
TEST(Training, LearnsFashionMnistFarAboveChance) {
  double fp32 = seed_model_accuracy("float32"), bf16 = seed_model_accuracy("mixed_bfloat16");
  EXPECT_GT(fp32, 0.75);
  EXPECT_NEAR(bf16, fp32, 0.01);
}

}  // namespace
}  // namespace kiln
