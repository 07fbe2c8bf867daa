// The tutorial's closing advice, taken: a convolutional network does better on Fashion-MNIST.
// Two networks in Keras's style, the ones `kiln train --model cnn` and `--model cnn-bn` train:
// a plain CNN, then the same with batch normalization, dropout and augmentation.
#include <kiln/kiln.hpp>

#include <cmath>
#include <iostream>

int main(int argc, char** argv) {
  using namespace kiln;
  using namespace kiln::layers;
  // An optional argument shortens both runs (epochs), for a quick look.
  const int quick = argc > 1 ? std::atoi(argv[1]) : 0;

  // Images stay uint8 (N, 28, 28); the model scales them (Rescaling) and takes them as
  // (28, 28, 1) images without a reshape.
  auto [train, test] = datasets::fashion_mnist::load_data();
  ByteTensor X_valid = train.images.slice(0, 5000), X_train = train.images.slice(5000, 60000);
  ByteTensor y_valid = train.labels.slice(0, 5000), y_train = train.labels.slice(5000, 60000);

  utils::set_random_seed(42);
  Sequential cnn({
      Rescaling(1.0 / 255),
      Conv2D({.filters = 32, .kernel_size = 3, .activation = "relu"}),
      MaxPooling2D(2),
      Conv2D(64, 3, "relu"),
      MaxPooling2D(2),
      Flatten(),
      Dense(128, "relu"),
      Dense(10, "softmax"),
  });
  cnn.build({28, 28, 1});  // the input's shape, as Keras's model.build((None, 28, 28, 1))
  cnn.summary();
  // Adam at 1e-3, keeping a moving average of the weights (use_ema) that fit ends with;
  // SwapEMAWeights validates with that average, so the curves show the model fit returns.
  const int epochs = quick ? quick : 10;
  cnn.compile({.loss = "sparse_categorical_crossentropy",
               .optimizer = optimizers::Adam({.learning_rate = 1e-3, .use_ema = true}),
               .metrics = {"accuracy"}});
  SwapEMAWeights validate_the_average;
  cnn.fit(X_train, y_train,
          {.epochs = epochs, .batch_size = 64, .validation_data = ValidationData{X_valid, y_valid},
           .callbacks = {&validate_the_average}});
  const double cnn_accuracy = cnn.evaluate(test.images, test.labels).at("accuracy");
  std::cout << "cnn test accuracy: " << cnn_accuracy << "\n";

  // Batch normalization after each convolution (its bias is then redundant), padded so that the
  // border pixels count, dropout before the classifier, and augmentation in fit only: shifts of
  // up to 5% (a pixel) and mirror images. Augmented data is harder to fit, so it trains longer.
  // The rate falls along a cosine to 0 over the run's steps.
  const int bn_epochs = quick ? quick : 60;
  const double steps_per_epoch = std::ceil(X_train.dim(0) / 64.0);
  Sequential cnn_bn({
      Rescaling(1.0 / 255),
      RandomTranslation({.height_factor = 0.05, .width_factor = 0.05, .fill_mode = "constant",
                         .interpolation = "nearest"}),
      RandomFlip("horizontal"),
      Conv2D({.filters = 32, .kernel_size = 3, .padding = "same", .use_bias = false}),
      BatchNormalization(),
      ReLU(),
      MaxPooling2D(2),
      Conv2D({.filters = 64, .kernel_size = 3, .padding = "same", .use_bias = false}),
      BatchNormalization(),
      ReLU(),
      MaxPooling2D(2),
      Flatten(),
      Dense(128, "relu"),
      Dropout(0.3),
      Dense(10, "softmax"),
  });
  cnn_bn.build({28, 28, 1});
  cnn_bn.compile({.loss = "sparse_categorical_crossentropy",
                  .optimizer = optimizers::Adam({.learning_rate = schedules::CosineDecay(
                                                     {.initial_learning_rate = 1e-3, .decay_steps = bn_epochs * steps_per_epoch})}),
                  .metrics = {"accuracy"}});
  cnn_bn.fit(X_train, y_train,
             {.epochs = bn_epochs, .batch_size = 64, .validation_data = ValidationData{X_valid, y_valid}});
  const double cnn_bn_accuracy = cnn_bn.evaluate(test.images, test.labels).at("accuracy");
  std::cout << "cnn-bn test accuracy: " << cnn_bn_accuracy << "\n";
  cnn_bn.save("fashion_mnist_cnn_bn");
}
