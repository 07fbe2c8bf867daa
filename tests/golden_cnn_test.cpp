// Conv2D, pooling and BatchNormalization against values PyTorch computed with TensorFlow's
// padding rules (tests/golden/make_golden.py): forward, and backward of sum(out * r).
#include "helpers.hpp"

namespace kiln {
namespace {

using testing::expect_close;
using testing::fill;
using testing::golden;

Shape shape_of(const nlohmann::json& v) { return v.get<Shape>(); }

Shape batched(int64_t batch, Shape s) {
  s.insert(s.begin(), batch);
  return s;
}

// Runs the layer's training forward and backward on the fixture's x and r.
struct Pass {
  Tensor out, grad_x;
};
Pass run(Layer& layer, const nlohmann::json& c, int64_t batch) {
  Tensor x(batched(batch, shape_of(c["input"])));
  fill(x, c["x"]);
  Pass p{Tensor(shape_of(c["out_shape"])), Tensor(x.shape())};
  Tensor r(p.out.shape());
  fill(r, c["r"]);
  const Workspace ws = layer.workspace(batch, true);
  std::vector<float> scratch(ws.scratch), saved(ws.saved);
  Context ctx{.training = true, .accumulate = false, .scratch = scratch, .saved = saved};
  testing::call_forward(layer, ctx, x, p.out);
  testing::call_backward(layer, ctx, x, p.out, r, &p.grad_x);
  return p;
}

TEST(GoldenCnn, Conv2DMatchesPyTorchForEveryPaddingStrideAndDilation) {
  auto g = golden("conv2d");
  for (const auto& c : g["cases"]) {
    SCOPED_TRACE(c["padding"].dump() + " kernel " + c["kernel_size"].dump() + " strides " + c["strides"].dump() +
                 " dilation " + c["dilation_rate"].dump());
    auto k = c["kernel_size"], s = c["strides"], d = c["dilation_rate"];
    layers::Conv2D conv({.filters = c["filters"], .kernel_size = {k[0], k[1]}, .strides = {s[0], s[1]},
                         .padding = c["padding"], .dilation_rate = {d[0], d[1]}});
    conv->build_once(std::vector<Shape>{shape_of(c["input"])});
    for (auto& p : conv->params()) {
      p.value = Tensor(p.shape);
      p.grad = Tensor(p.shape);
    }
    fill(conv->params()[0].value, c["kernel"]);
    fill(conv->params()[1].value, c["bias"]);
    ASSERT_EQ(batched(c["batch"], conv->output_shape()), shape_of(c["out_shape"]));
    Pass p = run(*conv, c, c["batch"]);
    expect_close("conv2d forward", p.out, c["out"], 1e-5);
    expect_close("conv2d grad x", p.grad_x, c["grad_x"], 1e-5);
    expect_close("conv2d grad kernel", conv->params()[0].grad, c["grad_kernel"], 1e-5);
    expect_close("conv2d grad bias", conv->params()[1].grad, c["grad_bias"], 1e-5);
  }
}

TEST(GoldenCnn, PoolingMatchesPyTorchWithTensorFlowPadding) {
  auto g = golden("pooling2d");
  for (const auto& c : g["cases"]) {
    SCOPED_TRACE(c["op"].dump() + " " + c["padding"].dump() + " pool " + c["pool_size"].dump() + " strides " +
                 c["strides"].dump());
    auto k = c["pool_size"], s = c["strides"];
    layers::Pooling2DOptions o{.pool_size = {k[0], k[1]}, .strides = {s[0], s[1]}, .padding = c["padding"]};
    LayerRef pool = c["op"] == "max" ? LayerRef(layers::MaxPooling2D(o)) : LayerRef(layers::AveragePooling2D(o));
    pool->build_once(std::vector<Shape>{shape_of(c["input"])});
    ASSERT_EQ(batched(c["batch"], pool->output_shape()), shape_of(c["out_shape"]));
    Pass p = run(*pool, c, c["batch"]);
    expect_close("pooling forward", p.out, c["out"], 1e-6);
    expect_close("pooling grad x", p.grad_x, c["grad_x"], 1e-6);
  }
}

TEST(GoldenCnn, BatchNormalizationMatchesPyTorchAndKerasMovingValues) {
  auto g = golden("batch_normalization");
  Shape shape = shape_of(g["shape"]);
  layers::BatchNormalization bn({.momentum = g["momentum"], .epsilon = g["epsilon"]});
  bn->build_once(std::vector<Shape>{Shape(shape.begin() + 1, shape.end())});
  for (auto& p : bn->params()) {
    p.value = Tensor(p.shape);
    p.grad = Tensor(p.shape);
  }
  fill(bn->params()[0].value, g["gamma"]);
  fill(bn->params()[1].value, g["beta"]);
  std::fill_n(bn->params()[3].value.data(), bn->params()[3].value.size(), 1.0f);  // moving_variance starts at 1
  const Workspace ws = bn->workspace(shape[0], true);
  std::vector<float> scratch(ws.scratch), saved(ws.saved);
  Context ctx{.training = true, .accumulate = false, .scratch = scratch, .saved = saved};
  for (const auto& step : g["steps"]) {
    Tensor x(shape), r(shape), out(shape), grad_x(shape);
    fill(x, step["x"]);
    fill(r, step["r"]);
    testing::call_forward(*bn, ctx, x, out);
    testing::call_backward(*bn, ctx, x, out, r, &grad_x);
    expect_close("batch norm forward", out, step["out"], 1e-5);
    expect_close("batch norm grad x", grad_x, step["grad_x"], 1e-5);
    expect_close("batch norm grad gamma", bn->params()[0].grad, step["grad_gamma"], 1e-5);
    expect_close("batch norm grad beta", bn->params()[1].grad, step["grad_beta"], 1e-5);
    expect_close("moving mean", bn->params()[2].value, step["moving_mean"], 1e-6);
    expect_close("moving variance", bn->params()[3].value, step["moving_variance"], 1e-5);
  }
  Tensor x(shape), out(shape);
  fill(x, g["inference_x"]);
  testing::call_forward(*bn, {.training = false, .scratch = scratch}, x, out);
  expect_close("batch norm inference", out, g["inference_out"], 1e-5);
}

}  // namespace
}  // namespace kiln
