// Dense + softmax cross-entropy against values PyTorch computed (tests/golden/make_golden.py).
#include <fstream>

#include "helpers.hpp"

namespace kiln {
namespace {

using testing::expect_close;
using testing::fill;
using testing::golden;

TEST(Golden, DenseReluSoftmaxForwardAndBackwardMatchPyTorch) {
  auto g = golden("dense_mlp");
  int64_t B = g["B"], IN = g["IN"], H = g["H"], C = g["C"];
  Sequential model({layers::Dense({.units = H, .activation = "relu", .input_shape = {IN}}),
                    layers::Dense(C, "softmax")});
  model.compile({.loss = "sparse_categorical_crossentropy", .optimizer = "sgd"});
  auto& l0 = model.layers()[0]->params();
  auto& l1 = model.layers()[1]->params();
  fill(l0[0].value, g["w1"]);
  fill(l0[1].value, g["b1"]);
  fill(l1[0].value, g["w2"]);
  fill(l1[1].value, g["b2"]);
  Tensor x({B, IN});
  fill(x, g["x"]);
  auto labels = g["labels"].get<std::vector<int32_t>>();

  const Tensor& probs = model.forward(x, true);
  expect_close("probabilities", probs, g["probs"], 1e-6);
  EXPECT_NEAR(model.loss()->forward(probs, labels.data()) / B, g["loss"].get<double>(), 1e-6);
  model.backward(labels.data());
  expect_close("grad dense/kernel", l0[0].grad, g["grad_w1"], 1e-6);
  expect_close("grad dense/bias", l0[1].grad, g["grad_b1"], 1e-6);
  expect_close("grad dense_1/kernel", l1[0].grad, g["grad_w2"], 1e-6);
  expect_close("grad dense_1/bias", l1[1].grad, g["grad_b2"], 1e-6);
}

// A functional model as make_golden.py builds it, its weights set from the fixture.
Model golden_functional(const std::string& name, const nlohmann::json& g) {
  using layers::Dense;
  auto x = Input({g["IN"].get<int64_t>()});
  SymbolicTensor joined = x;
  if (name == "residual_mlp") {
    auto h = Dense(5, "relu")(x);
    joined = layers::Add()({h, Dense(5, "relu")(h)});
  } else {
    joined = layers::Concatenate()({Dense(4, "relu")(x), Dense(3, "tanh")(x)});
  }
  Model model(x, Dense(3, "softmax")(joined), name);
  for (const auto& layer : model.layers())
    for (auto& p : layer->params()) fill(p.value, g["weights"][layer->name() + "/" + p.name]);
  return model;
}

// Forward, backward, and one SGD and one Adam step of the residual MLP (Add) and the two-branch
// model (Concatenate), each against PyTorch from the same weights.
TEST(Golden, FunctionalModelsMatchPyTorch) {
  for (const std::string name : {"residual_mlp", "two_branch"}) {
    SCOPED_TRACE(name);
    auto g = golden(name);
    Tensor x({g["B"].get<int64_t>(), g["IN"].get<int64_t>()});
    fill(x, g["x"]);
    auto labels = g["labels"].get<std::vector<int32_t>>();
    Model model = golden_functional(name, g);
    model.compile({.optimizer = "sgd"});
    const Tensor& probs = model.forward(x, true);
    expect_close("probabilities", probs, g["probs"], 1e-6);
    EXPECT_NEAR(model.loss()->forward(probs, labels.data()) / x.dim(0), g["loss"].get<double>(), 1e-6);
    model.backward(labels.data());
    for (const auto& layer : model.layers())
      for (const auto& p : layer->params())
        expect_close(("grad " + layer->name() + "/" + p.name).c_str(), p.grad, g["grads"][layer->name() + "/" + p.name],
                     1e-6);
    for (const std::string optimizer : {"sgd", "adam"}) {
      Model stepped = golden_functional(name, g);
      stepped.compile({.optimizer = optimizer == "sgd" ? OptimizerRef(optimizers::SGD({.learning_rate = 0.1}))
                                                      : OptimizerRef(optimizers::Adam({.learning_rate = 0.01, .epsilon = 1e-12}))});
      stepped.forward(x, true);
      stepped.train_step(labels.data());
      for (const auto& layer : stepped.layers())
        for (const auto& p : layer->params())
          expect_close((optimizer + " step " + layer->name() + "/" + p.name).c_str(), p.value,
                       g["after_" + optimizer][layer->name() + "/" + p.name], 2e-6);
    }
  }
}

void check_optimizer(const std::string& name, Optimizer& opt) {
  SCOPED_TRACE(name);
  auto g = golden(name);
  auto w = g["w0"].get<std::vector<float>>();
  int64_t n = static_cast<int64_t>(w.size());
  opt.build(n);
  for (size_t step = 0; step < g["grads"].size(); ++step) {
    auto grad = g["grads"][step].get<std::vector<float>>();
    opt.apply(w.data(), grad.data(), n);
    double diff = testing::max_abs_diff(w.data(), g["after"][step].get<std::vector<double>>(), w.size());
    EXPECT_LT(diff, 2e-6) << "after step " << step + 1;
  }
  EXPECT_EQ(opt.iterations(), static_cast<int64_t>(g["grads"].size()));
}

TEST(Golden, OptimizersMatchPyTorch) {
  optimizers::SGD sgd({.learning_rate = 0.1});
  check_optimizer("sgd", sgd);
  optimizers::SGD momentum({.learning_rate = 0.05, .momentum = 0.9});
  check_optimizer("sgd_momentum", momentum);
  optimizers::SGD nesterov({.learning_rate = 0.05, .momentum = 0.9, .nesterov = true});
  check_optimizer("sgd_nesterov", nesterov);
  optimizers::Adam adam({.learning_rate = 0.01, .epsilon = 1e-12});
  check_optimizer("adam", adam);
}

TEST(Golden, ToolkitOptimizersMatchPyTorch) {
  optimizers::Adam amsgrad({.learning_rate = 0.01, .epsilon = 1e-12, .amsgrad = true});
  check_optimizer("adam_amsgrad", amsgrad);
  optimizers::AdamW adamw({.learning_rate = 0.01, .epsilon = 1e-12, .weight_decay = 0.5});
  check_optimizer("adamw", adamw);
  optimizers::RMSprop rmsprop({.learning_rate = 0.01, .rho = 0.9, .epsilon = 1e-12});
  check_optimizer("rmsprop", rmsprop);
  optimizers::RMSprop centered({.learning_rate = 0.01, .rho = 0.9, .momentum = 0.5, .epsilon = 1e-12, .centered = true});
  check_optimizer("rmsprop_centered_momentum", centered);
  optimizers::Adagrad adagrad({.learning_rate = 0.1, .initial_accumulator_value = 0.1, .epsilon = 1e-12});
  check_optimizer("adagrad", adagrad);
  optimizers::Adamax adamax({.learning_rate = 0.01, .epsilon = 1e-12});
  check_optimizer("adamax", adamax);
}

}  // namespace
}  // namespace kiln
