// Test-time augmentation in evaluate and predict: "flip" averages each image's outputs with its
// mirror image's; off by default.
#include <cmath>

#include "helpers.hpp"

namespace kiln {
namespace {

Model small_cnn() {
  utils::set_random_seed(3);
  Sequential model({layers::Conv2D({.filters = 3, .kernel_size = 2, .activation = "relu", .input_shape = {4, 5, 2}}),
                    layers::Flatten(), layers::Dense(3, "softmax")});
  model.compile({.metrics = {"accuracy"}});
  return model;
}

// x mirrored along its width axis (N, H, W, C).
Tensor mirrored(const Tensor& x) {
  Tensor out(x.shape());
  const int64_t n = x.dim(0), h = x.dim(1), w = x.dim(2), c = x.dim(3);
  for (int64_t i = 0; i < n * h; ++i)
    for (int64_t col = 0; col < w; ++col)
      for (int64_t k = 0; k < c; ++k) out[(i * w + col) * c + k] = x[(i * w + (w - 1 - col)) * c + k];
  return out;
}

TEST(TestTimeAugmentation, FlipAveragesAnImageAndItsMirror) {
  Model model = small_cnn();
  const Tensor x = testing::random_tensor({7, 4, 5, 2}, 8);
  const Tensor plain = model.predict(x, {.batch_size = 3});
  const Tensor flipped = model.predict(mirrored(x), {.batch_size = 3});
  const Tensor tta = model.predict(x, {.batch_size = 3, .tta = "flip"});
  ASSERT_EQ(tta.shape(), plain.shape());
  double differs = 0;
  for (int64_t i = 0; i < tta.size(); ++i) {
    EXPECT_NEAR(tta[i], 0.5 * (plain[i] + flipped[i]), 1e-6) << i;
    differs = std::max(differs, std::fabs(static_cast<double>(plain[i]) - flipped[i]));
  }
  EXPECT_GT(differs, 1e-3) << "the mirror image must change the outputs for the test to mean anything";
  const Tensor again = model.predict(x, {.batch_size = 3});
  EXPECT_EQ(0, std::memcmp(again.data(), plain.data(), sizeof(float) * plain.size())) << "off by default";
}

TEST(TestTimeAugmentation, EvaluateScoresTheAveragedOutputs) {
  Model model = small_cnn();
  const Tensor x = testing::random_tensor({9, 4, 5, 2}, 9);
  const Labels y(std::vector<int32_t>{0, 1, 2, 0, 1, 2, 0, 1, 2});
  const Tensor tta = model.predict(x, {.tta = "flip"});
  double loss = 0, correct = 0;
  for (int64_t i = 0; i < 9; ++i) {
    loss -= std::log(std::max(1e-7f, tta[i * 3 + y[i]]));
    correct += metrics::argmax(tta.data() + i * 3, 3) == y[i];
  }
  const Logs logs = model.evaluate(x, y, {.batch_size = 4, .verbose = 0, .tta = "flip"});
  EXPECT_NEAR(logs.at("loss"), loss / 9, 1e-5);
  EXPECT_NEAR(logs.at("accuracy"), correct / 9, 1e-7);
}

TEST(TestTimeAugmentation, NeedsImagesAndAKnownName) {
  utils::set_random_seed(3);
  Sequential flat({layers::Dense({.units = 3, .activation = "softmax", .input_shape = {6}})});
  flat.compile({});
  try {
    flat.predict(testing::random_tensor({2, 6}, 1), {.tta = "flip"});
    FAIL() << "no error";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("needs inputs shaped (N, H, W[, C]); received shape [2, 6]"), std::string::npos)
        << e.what();
  }
  Model model = small_cnn();
  EXPECT_THROW(model.predict(testing::random_tensor({2, 4, 5, 2}, 1), {.tta = "rotate"}), ValueError);
}

}  // namespace
}  // namespace kiln
