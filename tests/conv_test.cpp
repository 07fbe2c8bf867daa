// Conv2D and pooling: numerical gradient checks over paddings, strides, dilations, odd sizes and a
// batch of one; TensorFlow's output sizes and "same" padding; errors that name the layer.
#include "helpers.hpp"

namespace kiln {
namespace {

Tensor filled(const Shape& shape, float value) {
  Tensor t(shape);
  std::fill_n(t.data(), t.size(), value);
  return t;
}

void expect_gradients(Layer& layer, const Shape& input, int64_t batch = 2) {
  testing::GradientReport report = testing::check_gradients(layer, {input}, {}, batch);
  EXPECT_TRUE(report.ok()) << report;
  EXPECT_GT(report.checked, 0);
}

struct ConvCase {
  Shape input;
  layers::Conv2DOptions options;
  Shape output;
};

TEST(Conv2D, GradientsForEveryPaddingStrideAndDilation) {
  const std::vector<ConvCase> cases = {
      {{5, 5, 2}, {.filters = 3, .kernel_size = 3}, {3, 3, 3}},
      {{5, 5, 2}, {.filters = 3, .kernel_size = 3, .padding = "same"}, {5, 5, 3}},
      {{6, 7, 2}, {.filters = 2, .kernel_size = 3, .strides = 2}, {2, 3, 2}},
      {{6, 7, 2}, {.filters = 2, .kernel_size = 3, .strides = 2, .padding = "same"}, {3, 4, 2}},
      {{6, 6, 1}, {.filters = 2, .kernel_size = 2, .strides = 2, .padding = "same"}, {3, 3, 2}},
      {{5, 6, 2}, {.filters = 2, .kernel_size = {2, 3}, .padding = "same"}, {5, 6, 2}},
      {{7, 7, 2}, {.filters = 2, .kernel_size = 3, .dilation_rate = 2}, {3, 3, 2}},
      {{7, 6, 1}, {.filters = 2, .kernel_size = 3, .padding = "same", .dilation_rate = {2, 1}}, {7, 6, 2}},
      {{4, 5, 3}, {.filters = 4, .kernel_size = 1}, {4, 5, 4}},
      {{5, 5, 3}, {.filters = 2, .kernel_size = 1, .strides = 2}, {3, 3, 2}},
      {{5, 5, 2}, {.filters = 3, .kernel_size = 3, .activation = "relu", .use_bias = false}, {3, 3, 3}},
      {{4, 4, 2}, {.filters = 2, .kernel_size = 3, .padding = "same", .activation = "tanh"}, {4, 4, 2}},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE("case " + std::to_string(i));
    for (int64_t batch : {1, 2}) {
      layers::Conv2D conv(cases[i].options);
      conv->set_name("conv2d");
      expect_gradients(*conv, cases[i].input, batch);
      EXPECT_EQ(conv->output_shape(), cases[i].output);
    }
  }
}

TEST(Conv2D, SamePaddingPutsTheOddRowAtTheBottomAsTensorFlowDoes) {
  // A 4x4 image of ones, a 2x2 kernel of ones, stride 1, "same": TensorFlow pads 0 rows above
  // and 1 below (and likewise columns), so the last row and column see half the window.
  layers::Conv2D conv({.filters = 1, .kernel_size = 2, .padding = "same", .use_bias = false});
  conv->build_once(std::vector<Shape>{{4, 4, 1}});
  Tensor kernel = filled({2, 2, 1, 1}, 1.0f), x = filled({1, 4, 4, 1}, 1.0f), out({1, 4, 4, 1});
  conv->params()[0].value = kernel;
  std::vector<float> scratch(conv->workspace(1, false).scratch);
  Context ctx{.scratch = scratch};
  testing::call_forward(*conv, ctx, x, out);
  EXPECT_EQ(out[0], 4.0f);
  EXPECT_EQ(out[3], 2.0f);   // last column
  EXPECT_EQ(out[12], 2.0f);  // last row
  EXPECT_EQ(out[15], 1.0f);  // corner
}

TEST(Pooling2D, GradientsForBothPoolsAndPaddings) {
  for (bool max : {true, false})
    for (const char* padding : {"valid", "same"})
      for (layers::Size2 strides : {layers::Size2(0), layers::Size2(1), layers::Size2(2, 1)}) {
        SCOPED_TRACE(std::string(max ? "max " : "average ") + padding + " strides " + std::to_string(strides.h));
        layers::Pooling2DOptions o{.pool_size = {2, 3}, .strides = strides, .padding = padding};
        LayerRef pool = max ? LayerRef(layers::MaxPooling2D(o)) : LayerRef(layers::AveragePooling2D(o));
        pool->set_name("pool");
        expect_gradients(*pool, {5, 7, 2});
        expect_gradients(*pool, {5, 7, 2}, 1);
      }
}

TEST(Pooling2D, SameAveragePoolingLeavesThePaddingOutOfTheMean) {
  layers::AveragePooling2D pool({.pool_size = 2, .padding = "same"});
  pool->build_once(std::vector<Shape>{{3, 3, 1}});
  EXPECT_EQ(pool->output_shape(), (Shape{2, 2, 1}));
  Tensor x({1, 3, 3, 1}), out({1, 2, 2, 1});
  for (int i = 0; i < 9; ++i) x[i] = static_cast<float>(i + 1);
  testing::call_forward(*pool, {}, x, out);
  EXPECT_FLOAT_EQ(out[0], (1 + 2 + 4 + 5) / 4.0f);
  EXPECT_FLOAT_EQ(out[1], (3 + 6) / 2.0f);
  EXPECT_FLOAT_EQ(out[2], (7 + 8) / 2.0f);
  EXPECT_FLOAT_EQ(out[3], 9.0f);
}

TEST(Pooling2D, MaxPoolingGivesATiedGradientToTheFirstMaximum) {
  layers::MaxPooling2D pool(2);
  pool->build_once(std::vector<Shape>{{2, 2, 1}});
  Tensor x = filled({1, 2, 2, 1}, 3.0f), out({1, 1, 1, 1}), g = filled({1, 1, 1, 1}, 1.0f), dx({1, 2, 2, 1});
  std::vector<float> saved(pool->workspace(1, true).saved);
  Context ctx{.training = true, .saved = saved};
  testing::call_forward(*pool, ctx, x, out);
  testing::call_backward(*pool, ctx, x, out, g, &dx);
  EXPECT_EQ(dx[0], 1.0f);
  EXPECT_EQ(dx[1] + dx[2] + dx[3], 0.0f);
}

TEST(GlobalPooling2D, Gradients) {
  layers::GlobalAveragePooling2D avg;
  layers::GlobalMaxPooling2D max;
  expect_gradients(*avg, {3, 4, 5});
  expect_gradients(*max, {3, 4, 5});
  EXPECT_EQ(max->output_shape(), (Shape{5}));
}

// The message contains every one of the given parts.
#define EXPECT_ERROR(message, ...)                                     \
  do {                                                                 \
    const std::string got = message;                                   \
    for (const char* part : {__VA_ARGS__}) EXPECT_NE(got.find(part), std::string::npos) << got; \
  } while (0)

TEST(Conv2D, BadOptionsAndShapesNameTheLayerAndTheValue) {
  auto message = [](auto&& make) -> std::string {
    try {
      make();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_ERROR(message([] { layers::Conv2D(0, 3); }), ("filters=0"));
  EXPECT_ERROR(message([] { layers::Conv2D({.filters = 2, .padding = "full"}); }), ("\"full\""));
  EXPECT_ERROR(message([] { layers::Conv2D({.filters = 2, .kernel_size = {0, 3}}); }),
              ("kernel_size"));
  EXPECT_ERROR(message([] { layers::Conv2D({.filters = 2, .strides = 2, .dilation_rate = 2}); }),
              ("dilation_rate"));
  EXPECT_ERROR(message([] { layers::MaxPooling2D({.padding = "causal"}); }), ("\"causal\""));
  EXPECT_ERROR(message([] {
                layers::Conv2D conv(4, 5);
                conv->set_name("big");
                conv->build_once(std::vector<Shape>{{3, 3, 1}});
              }),
              "'big'", "larger than the input");
  EXPECT_ERROR(message([] {
                layers::Conv2D conv(4, 3);
                conv->build_once(std::vector<Shape>{{28, 28}});
              }),
              ("(height, width, channels)"));
}

}  // namespace
}  // namespace kiln
