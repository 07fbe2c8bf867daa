// Numerical gradient checks: every layer with every activation, every merge layer, every loss,
// and a checker that a gradient 1% off does not pass.
#include "helpers.hpp"
#include "kernels/cpu/losses.hpp"

namespace kiln {
namespace {

void expect_gradients(Layer& layer, const std::vector<Shape>& shapes) {
  testing::GradientReport report = testing::check_gradients(layer, shapes);
  EXPECT_TRUE(report.ok()) << report;
  EXPECT_GT(report.checked, 0);
  std::cout << "  " << layer.class_name() << ": " << report << "\n";
}

TEST(Gradients, DenseWithEveryActivation) {
  for (const char* act : {"linear", "relu", "sigmoid", "tanh", "softmax"}) {
    SCOPED_TRACE(act);
    layers::Dense dense(4, act);
    dense->set_name("dense");
    expect_gradients(*dense, {{6}});
  }
}

TEST(Gradients, DenseWithoutBias) {
  layers::Dense dense({.units = 3, .activation = "tanh", .use_bias = false});
  expect_gradients(*dense, {{5}});
  EXPECT_EQ(dense->params().size(), 1u);
}

TEST(Gradients, Flatten) {
  layers::Flatten flatten;
  expect_gradients(*flatten, {{3, 4}});
}

TEST(Gradients, EveryMergeLayer) {
  for (LayerRef merge : std::vector<LayerRef>{layers::Add(), layers::Multiply(), layers::Average(),
                                              layers::Maximum(), layers::Minimum()}) {
    SCOPED_TRACE(merge->class_name());
    expect_gradients(*merge, {{2, 3}, {2, 3}, {2, 3}});
  }
  layers::Subtract subtract;
  expect_gradients(*subtract, {{5}, {5}});
  layers::Concatenate last;
  expect_gradients(*last, {{2, 3}, {2, 1}, {2, 4}});
  layers::Concatenate middle(1);
  expect_gradients(*middle, {{2, 3}, {4, 3}});
}

// Dense with one gradient made 1% too large: the kernel's, or the input's.
class SkewedDense : public layers::impl::Dense {
 public:
  explicit SkewedDense(bool skew_input) : Dense({.units = 4, .activation = "tanh"}), skew_input_(skew_input) {}
  void backward(const Context& ctx, std::span<const Tensor* const> inputs, const Tensor& out, Tensor& grad_out,
                std::span<const InputGrad> grad_inputs) override {
    Tensor own(inputs[0]->shape());
    InputGrad mine[] = {{&own, false}};
    Dense::backward(ctx, inputs, out, grad_out, mine);
    for (float& v : own.values()) v *= skew_input_ ? 1.01f : 1.0f;
    store_input_grad(grad_inputs[0], own.data(), own.size());
    if (!skew_input_)
      for (float& g : params_[0].grad.values()) g *= 1.01f;
  }

 private:
  bool skew_input_;
};

TEST(Gradients, TheCheckerFailsAGradientOnePercentOff) {
  for (bool input : {false, true}) {
    SkewedDense skewed(input);
    testing::GradientReport report = testing::check_gradients(skewed, {{6}});
    EXPECT_FALSE(report.ok()) << (input ? "an input" : "a kernel") << " gradient 1% too large passed: " << report;
  }
  // The same layer unskewed passes, well inside the tolerance.
  layers::Dense plain({.units = 4, .activation = "tanh"});
  testing::GradientReport report = testing::check_gradients(*plain, {{6}});
  EXPECT_TRUE(report.ok()) << report;
  EXPECT_LT(report.worst, 0.5) << report;
}

// d(mean loss)/d(input) of a loss against central differences.
void check_loss(const Loss& loss, bool fuse_softmax, bool inputs_are_probs) {
  const int64_t B = 4, C = 5;
  Tensor z = testing::random_tensor({B, C}, 21, -2.0f, 2.0f);
  std::vector<int32_t> y = {0, 3, 4, 1};
  auto softmax = [&](const Tensor& logits) {
    Tensor p = logits.clone();
    for (int64_t r = 0; r < B; ++r) {
      double m = -1e30, s = 0;
      for (int64_t j = 0; j < C; ++j) m = std::max(m, double(p[r * C + j]));
      for (int64_t j = 0; j < C; ++j) s += std::exp(p[r * C + j] - m);
      for (int64_t j = 0; j < C; ++j) p[r * C + j] = static_cast<float>(std::exp(p[r * C + j] - m) / s);
    }
    return p;
  };
  // The function of z being differentiated: the loss of softmax(z) when fusing, of z otherwise.
  auto value = [&](const Tensor& in) {
    Tensor out = fuse_softmax ? softmax(in) : in;
    return loss.forward(out, y.data()) / B;
  };
  Tensor input = inputs_are_probs && !fuse_softmax ? softmax(z) : z;
  Tensor grad({B, C});
  loss.backward(fuse_softmax ? softmax(z) : input, y.data(), static_cast<float>(B), grad, fuse_softmax);
  const double eps = 1e-3;
  for (int64_t i = 0; i < input.size(); ++i) {
    float saved = input[i];
    input[i] = saved + float(eps);
    double up = value(input);
    input[i] = saved - float(eps);
    double down = value(input);
    input[i] = saved;
    EXPECT_NEAR(grad[i], (up - down) / (2 * eps), 2e-3) << "element " << i;
  }
}

TEST(Gradients, SparseCategoricalCrossentropyOnProbabilities) {
  check_loss(losses::SparseCategoricalCrossentropy(), false, true);
}

TEST(Gradients, SparseCategoricalCrossentropyFromLogits) {
  check_loss(losses::SparseCategoricalCrossentropy({.from_logits = true}), false, false);
}

TEST(Gradients, SoftmaxFusedWithCrossentropy) {
  check_loss(losses::SparseCategoricalCrossentropy(), true, false);
}

TEST(Losses, CrossentropyClipsProbabilitiesAsKerasDoes) {
  Tensor p({1, 2}, {0.0f, 1.0f});
  int32_t y = 0;
  EXPECT_NEAR(losses::SparseCategoricalCrossentropy().forward(p, &y), -std::log(1e-7), 1e-3);
}

}  // namespace
}  // namespace kiln
