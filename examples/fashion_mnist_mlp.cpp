// The TensorFlow 2 / Keras Fashion-MNIST tutorial, line for line in C++.
#include <kiln/kiln.hpp>

#include <iostream>

int main() {
  using namespace kiln;
  using layers::Dense, layers::Flatten;

  // 1. Load Fashion-MNIST: uint8 images (N, 28, 28) and labels (N).
  auto [train, test] = datasets::fashion_mnist::load_data();
  const auto& class_names = datasets::fashion_mnist::class_names();

  // 2. Keep the first 5,000 training images for validation; scale pixels to [0, 1].
  Tensor X_valid = train.images.slice(0, 5000).astype<float>() / 255.0f;
  Tensor X_train = train.images.slice(5000, 60000).astype<float>() / 255.0f;
  Tensor X_test = test.images.astype<float>() / 255.0f;
  ByteTensor y_valid = train.labels.slice(0, 5000);
  ByteTensor y_train = train.labels.slice(5000, 60000);
  // Look at an image: the first training image, scaled up, ink on paper (cmap="binary").
  plot::image_grid(train.images.slice(5000, 5001), {class_names[y_train[0]]}, "first_image.png",
                   {.scale = 10, .cmap = "binary"});

  // 3. Build the model.
  utils::set_random_seed(42);
  Sequential model({
      Flatten({28, 28}),
      Dense(300, "relu"),
      Dense(100, "relu"),
      Dense(10, "softmax"),
  });
  model.summary();

  // 4. Compile.
  model.compile({.loss = "sparse_categorical_crossentropy",
                 .optimizer = optimizers::SGD({.learning_rate = 0.01}),
                 .metrics = {"accuracy"}});

  // 5. Train for 30 epochs with validation data.
  History history = model.fit(X_train, y_train,
                              {.epochs = 30, .validation_data = ValidationData{X_valid, y_valid}});
  std::cout << "final val_accuracy: " << history.history["val_accuracy"].back() << "\n";
  // The learning curves, as pd.DataFrame(history.history).plot() with set_ylim(0, 1).
  plot::learning_curves(history, "learning_curves.png", {.ylim = std::pair{0.0, 1.0}});

  // 6. Evaluate on the test set, save, load back and predict.
  Logs results = model.evaluate(X_test, test.labels);
  std::cout << "test accuracy: " << results.at("accuracy") << "\n";
  // Where it goes wrong: per-class scores and the confusion matrix.
  std::vector<int32_t> truth(test.labels.data(), test.labels.data() + test.labels.size());
  ConfusionMatrix cm = confusion_matrix(truth, argmax_rows(model.predict(X_test)), 10);
  std::cout << classification_report(cm, class_names);
  plot::confusion_matrix(cm, class_names, "confusion.png");
  model.class_names = class_names;
  model.preprocessing.rescale = 1.0 / 255.0;
  model.save("fashion_mnist_mlp");
  Sequential loaded = load_model("fashion_mnist_mlp");
  Tensor probabilities = loaded.predict(X_test.slice(0, 3));
  for (int64_t i = 0; i < 3; ++i)
    std::cout << "test image " << i << ": "
              << class_names[metrics::argmax(probabilities.data() + i * 10, 10)] << "\n";
}
