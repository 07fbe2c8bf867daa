// End to end on real data: a few epochs on a slice of Fashion-MNIST must learn far above chance.
#include "helpers.hpp"

namespace kiln {
namespace {

TEST(Training, LearnsFashionMnistFarAboveChance) {
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
  model.compile({.loss = "sparse_categorical_crossentropy", .optimizer = "sgd", .metrics = {"accuracy"}});
  History h = model.fit(x, y, {.epochs = 5, .validation_split = 0.1, .verbose = 0, .seed = 42});
  Logs result = model.evaluate(x_test, y_test, {.verbose = 0});
  std::cout << "  test accuracy after 5 epochs on 5,400 images: " << result.at("accuracy") << "\n";
  EXPECT_GT(result.at("accuracy"), 0.75);
  EXPECT_LT(h.history["loss"].back(), h.history["loss"].front());
}

}  // namespace
}  // namespace kiln
