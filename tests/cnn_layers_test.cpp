// BatchNormalization, Dropout, SpatialDropout2D and the reshaping layers: gradient checks, the
// training/inference split, Keras's moving-statistics rule, reproducible masks.
#include <cmath>

#include "helpers.hpp"
#include "kernels/cpu/activations.hpp"

namespace kiln {
namespace {

void expect_gradients(Layer& layer, const Shape& input, int64_t batch = 3) {
  testing::GradientReport report = testing::check_gradients(layer, {input}, {}, batch);
  EXPECT_TRUE(report.ok()) << report;
  EXPECT_GT(report.checked, 0);
}

TEST(BatchNormalization, GradientsInTraining) {
  for (bool center : {true, false})
    for (bool scale : {true, false}) {
      SCOPED_TRACE(std::string("center ") + (center ? "yes" : "no") + ", scale " + (scale ? "yes" : "no"));
      layers::BatchNormalization bn({.center = center, .scale = scale});
      bn->set_name("bn");
      expect_gradients(*bn, {3, 4, 2});
      layers::BatchNormalization flat({.center = center, .scale = scale});
      expect_gradients(*flat, {5}, 8);
    }
}

TEST(BatchNormalization, FrozenUsesTheMovingStatisticsAndPassesTheirGradient) {
  layers::BatchNormalization bn;
  testing::materialize(*bn, {{4}}, 3);
  bn->params()[3].value = testing::random_tensor({4}, 5, 0.5f, 2.0f);  // a positive moving variance
  bn->trainable = false;
  testing::GradientReport report = testing::check_gradients(*bn, {{4}});
  EXPECT_TRUE(report.ok()) << report;
}

TEST(BatchNormalization, BatchStatisticsInFitMovingOnesAfterAndKerasUpdateRule) {
  layers::BatchNormalization bn({.momentum = 0.9, .epsilon = 1e-3});
  bn->build_once(std::vector<Shape>{{2}});
  std::vector<Tensor> values;
  for (auto& p : bn->params()) {
    p.value = Tensor(p.shape);
    p.grad = Tensor(p.shape);
  }
  bn->params()[0].value = Tensor({2}, {1.0f, 2.0f});   // gamma
  bn->params()[1].value = Tensor({2}, {0.0f, 0.5f});   // beta
  bn->params()[2].value = Tensor({2}, {0.0f, 0.0f});   // moving_mean
  bn->params()[3].value = Tensor({2}, {1.0f, 1.0f});   // moving_variance
  Tensor x({4, 2}, {1, 10, 2, 20, 3, 30, 6, 40}), out({4, 2});
  const Workspace ws = bn->workspace(4, true);
  std::vector<float> scratch(ws.scratch), saved(ws.saved);
  testing::call_forward(*bn, {.training = true, .scratch = scratch, .saved = saved}, x, out);
  // Feature 0: mean 3, biased variance (4 + 1 + 0 + 9) / 4 = 3.5.
  EXPECT_NEAR(out[0], (1 - 3) / std::sqrt(3.5 + 1e-3), 1e-5);
  EXPECT_NEAR(bn->params()[2].value[0], 0.1 * 3, 1e-6);
  EXPECT_NEAR(bn->params()[3].value[0], 0.9 + 0.1 * 3.5, 1e-6);
  // Feature 1: mean 25, biased variance (225 + 25 + 25 + 225) / 4 = 125.
  EXPECT_NEAR(bn->params()[3].value[1], 0.9 + 0.1 * 125, 1e-4);
  // Inference: the moving values.
  testing::call_forward(*bn, {.training = false, .scratch = scratch}, x, out);
  const float mm = bn->params()[2].value[1], mv = bn->params()[3].value[1];
  EXPECT_NEAR(out[1], 2 * (10 - mm) / std::sqrt(mv + 1e-3) + 0.5, 1e-4);
}

TEST(Dropout, ScalesWhatItKeepsAndIsTheIdentityAtInference) {
  layers::Dropout dropout(0.25);
  dropout->build_once(std::vector<Shape>{{1000}});
  Tensor x = testing::random_tensor({2, 1000}, 1, 1.0f, 2.0f), out({2, 1000});
  std::vector<float> saved(dropout->workspace(2, true).saved);
  Context train{.training = true, .saved = saved, .random = RandomStream(9)};
  testing::call_forward(*dropout, train, x, out);
  int64_t zeros = 0;
  for (int64_t i = 0; i < x.size(); ++i) {
    if (out[i] == 0) ++zeros;
    else EXPECT_FLOAT_EQ(out[i], x[i] / 0.75f);
  }
  EXPECT_NEAR(static_cast<double>(zeros) / 2000, 0.25, 0.03);
  // The same stream, the same mask; another stream, another.
  Tensor again({2, 1000}), other({2, 1000});
  testing::call_forward(*dropout, train, x, again);
  Context next = train;
  next.random = RandomStream(10);
  testing::call_forward(*dropout, next, x, other);
  int64_t same = 0, differ = 0;
  for (int64_t i = 0; i < x.size(); ++i) {
    same += again[i] == out[i];
    differ += (other[i] == 0) != (out[i] == 0);
  }
  EXPECT_EQ(same, x.size());
  EXPECT_GT(differ, 100);
  testing::call_forward(*dropout, {.training = false}, x, out);
  for (int64_t i = 0; i < x.size(); ++i) ASSERT_EQ(out[i], x[i]);
}

TEST(Dropout, SpatialDropsWholeChannels) {
  layers::SpatialDropout2D dropout(0.5);
  dropout->build_once(std::vector<Shape>{{3, 3, 8}});
  Tensor x = testing::random_tensor({4, 3, 3, 8}, 1, 1.0f, 2.0f), out(x.shape());
  std::vector<float> saved(dropout->workspace(4, true).saved);
  testing::call_forward(*dropout, {.training = true, .saved = saved, .random = RandomStream(3)}, x, out);
  int64_t dropped = 0;
  for (int64_t b = 0; b < 4; ++b)
    for (int64_t c = 0; c < 8; ++c) {
      bool zero = out[b * 72 + c] == 0;
      dropped += zero;
      for (int64_t p = 0; p < 9; ++p) EXPECT_EQ(out[b * 72 + p * 8 + c] == 0, zero);
    }
  EXPECT_GT(dropped, 0);
  EXPECT_LT(dropped, 32);
}

TEST(Dropout, Gradients) {
  layers::Dropout dropout(0.3);
  expect_gradients(*dropout, {10});
  layers::SpatialDropout2D spatial(0.3);
  expect_gradients(*spatial, {2, 3, 4});
}

TEST(ReshapingLayers, Gradients) {
  for (const char* act : {"relu", "tanh", "sigmoid", "softmax"}) {
    layers::Activation a(act);
    expect_gradients(*a, {2, 5});
  }
  layers::ReLU plain;
  expect_gradients(*plain, {12});
  layers::ReLU leaky({.max_value = 0.6, .negative_slope = 0.1, .threshold = 0.05});
  expect_gradients(*leaky, {12});
  layers::Reshape reshape({-1, 3});
  expect_gradients(*reshape, {2, 6});
  EXPECT_EQ(reshape->output_shape(), (Shape{4, 3}));
  layers::ZeroPadding2D pad(layers::Padding2D(1, 2, 0, 3));
  expect_gradients(*pad, {3, 2, 2});
  EXPECT_EQ(pad->output_shape(), (Shape{6, 5, 2}));
  layers::Rescaling rescale(0.5, -1.0);
  expect_gradients(*rescale, {4});
}

// Enough values that the pool splits them and the vector loops run with a remainder; the kinks
// themselves (0, the threshold, the ceiling) are in the data.
TEST(ReLU, KernelsMatchTheDefinitionOnLargeTensors) {
  const int64_t n = 3 * 4096 + 7;
  Tensor x = testing::random_tensor({n}, 11, -1.0f, 1.0f);
  x.data()[0] = 0.0f, x.data()[1] = 0.05f, x.data()[2] = 0.6f, x.data()[3] = -0.0f;
  for (const cpu::ReluShape shape : {cpu::ReluShape{}, cpu::ReluShape{0.05f, 0.1f, 0.6f}}) {
    SCOPED_TRACE("threshold " + std::to_string(shape.threshold));
    std::vector<float> y(n), g(n, 2.0f);
    cpu::relu_forward(y.data(), x.data(), n, shape);
    cpu::relu_backward(g.data(), x.data(), n, shape);
    for (int64_t i = 0; i < n; ++i) {
      const float v = x.data()[i];
      const float want = v >= shape.max_value ? shape.max_value
                         : v >= shape.threshold ? v
                                                : shape.negative_slope * (v - shape.threshold);
      const float slope = v > shape.threshold ? (v < shape.max_value ? 1.0f : 0.0f) : shape.negative_slope;
      ASSERT_EQ(y[i], want) << "at " << i << ", x = " << v;
      ASSERT_EQ(g[i], 2.0f * slope) << "at " << i << ", x = " << v;
    }
  }
}

TEST(ReshapingLayers, BadArgumentsAreNamed) {
  EXPECT_THROW(layers::Reshape({-1, -1}), ValueError);
  EXPECT_THROW(layers::Dropout(-0.1), ValueError);
  EXPECT_THROW(layers::Dropout(1.0), ValueError);
  EXPECT_THROW(layers::ZeroPadding2D(-1), ValueError);
  layers::Reshape r({5, -1});
  EXPECT_THROW(r->build_once(std::vector<Shape>{{12}}), ShapeError);
}

}  // namespace
}  // namespace kiln
