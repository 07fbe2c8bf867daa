// The augmentation layers: the identity at inference, reproducible for a stream and different
// across streams in training, exact flips and crops, and backward passes that are the adjoint
// of the resampling (numerical gradient checks).
#include "helpers.hpp"

namespace kiln {
namespace {

Tensor run(Layer& layer, const Tensor& x, bool training, uint64_t stream) {
  Shape out_shape = layer.output_shape();
  out_shape.insert(out_shape.begin(), x.dim(0));
  Tensor out(out_shape);
  std::vector<float> scratch(layer.workspace(x.dim(0), training).scratch);
  testing::call_forward(layer, {.training = training, .scratch = scratch, .random = RandomStream(stream)}, x, out);
  return out;
}

bool same(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::equal(a.data(), a.data() + a.size(), b.data());
}

std::vector<LayerRef> every_augmentation() {
  using namespace layers;
  return {RandomFlip("horizontal_and_vertical"),
          RandomTranslation(0.2, 0.3),
          RandomTranslation({.height_factor = {-0.1, 0.2}, .width_factor = 0.2, .fill_mode = "constant",
                             .fill_value = 0.5}),
          RandomTranslation({.height_factor = 0.3, .width_factor = 0.3, .fill_mode = "wrap", .interpolation = "nearest"}),
          RandomRotation(0.2),
          RandomRotation({.factor = 0.5, .fill_mode = "nearest"}),
          RandomZoom(0.3),
          RandomZoom({.height_factor = {-0.3, 0.2}, .width_factor = FactorRange(0.1, 0.4)}),
          RandomCrop(4, 5)};
}

TEST(Augmentation, IdentityAtInferenceReproducibleAndVariedInTraining) {
  Tensor x = testing::random_tensor({6, 7, 8, 2}, 1);
  for (LayerRef layer : every_augmentation()) {
    SCOPED_TRACE(layer->class_name() + " " + layer->config().dump());
    layer->build_once(std::vector<Shape>{{7, 8, 2}});
    const Tensor a = run(*layer, x, true, 5), b = run(*layer, x, true, 5), c = run(*layer, x, true, 6);
    EXPECT_TRUE(same(a, b));
    EXPECT_FALSE(same(a, c));
    if (layer->class_name() != "RandomCrop") {
      EXPECT_TRUE(same(run(*layer, x, false, 5), x));
    }
  }
}

TEST(Augmentation, FlipsAndCropsMoveWholePixels) {
  Tensor x = testing::random_tensor({64, 3, 4, 1}, 2);
  layers::RandomFlip flip("horizontal");
  flip->build_once(std::vector<Shape>{{3, 4, 1}});
  const Tensor y = run(*flip, x, true, 3);
  int flipped = 0;
  for (int64_t b = 0; b < 64; ++b) {
    bool mirror = y[b * 12] == x[b * 12 + 3];
    flipped += mirror;
    for (int64_t h = 0; h < 3; ++h)
      for (int64_t w = 0; w < 4; ++w)
        ASSERT_EQ(y[b * 12 + h * 4 + w], x[b * 12 + h * 4 + (mirror ? 3 - w : w)]);
  }
  EXPECT_GT(flipped, 16);
  EXPECT_LT(flipped, 48);

  layers::RandomCrop crop(2, 2);
  crop->build_once(std::vector<Shape>{{3, 4, 1}});
  const Tensor centre = run(*crop, x, false, 0);
  EXPECT_EQ(centre.shape(), (Shape{64, 2, 2, 1}));
  EXPECT_EQ(centre[0], x[0 * 4 + 1]);  // rows 0-1, columns 1-2: the spare row goes below
  EXPECT_EQ(centre[3], x[1 * 4 + 2]);
}

TEST(Augmentation, TranslationShiftsByWholePixelsAndFillsAsAsked) {
  Tensor x({1, 1, 5, 1}, {1, 2, 3, 4, 5});
  // A width range of [0.4, 0.4]: two pixels to the right.
  layers::RandomTranslation shift({.height_factor = 0.0, .width_factor = {0.4, 0.4}, .fill_mode = "constant",
                                   .fill_value = -1});
  shift->build_once(std::vector<Shape>{{1, 5, 1}});
  Tensor y = run(*shift, x, true, 0);
  EXPECT_EQ(std::vector<float>(y.data(), y.data() + 5), (std::vector<float>{-1, -1, 1, 2, 3}));
  layers::RandomTranslation reflect({.height_factor = 0.0, .width_factor = {0.4, 0.4}});
  reflect->build_once(std::vector<Shape>{{1, 5, 1}});
  y = run(*reflect, x, true, 0);
  EXPECT_EQ(std::vector<float>(y.data(), y.data() + 5), (std::vector<float>{2, 1, 1, 2, 3}));
}

TEST(Augmentation, Gradients) {
  for (LayerRef layer : every_augmentation()) {
    SCOPED_TRACE(layer->class_name() + " " + layer->config().dump());
    testing::GradientReport report = testing::check_gradients(*layer, {{5, 6, 2}});
    EXPECT_TRUE(report.ok()) << report;
    EXPECT_GT(report.checked, 0);
  }
}

TEST(Augmentation, BadArgumentsAreNamed) {
  EXPECT_THROW(layers::RandomFlip("diagonal"), ValueError);
  EXPECT_THROW(layers::RandomTranslation({.height_factor = 0.1, .width_factor = 0.1, .fill_mode = "mirror"}), ValueError);
  EXPECT_THROW(layers::RandomZoom(layers::FactorRange(-1.5, 0.2)), ValueError);
  EXPECT_THROW(layers::RandomCrop(0, 3), ValueError);
  layers::RandomCrop crop(10, 10);
  EXPECT_THROW(crop->build_once(std::vector<Shape>{{5, 5, 1}}), ShapeError);
}

}  // namespace
}  // namespace kiln
