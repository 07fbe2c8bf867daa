// A training step allocates nothing on the heap: global operator new is counted while fit runs
// 100 steps of the seed model, and of a functional model with a skip connection. (Its own binary, so the counting new touches no other test.)
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <kiln/kiln.hpp>
#include <new>

// GCC pairs the std::free below with the library's operator new, not this replacement.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {
std::atomic<long> allocations{0};
}

void* operator new(std::size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n ? n : 1);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace kiln {
namespace {

// Reads the allocation counter at the end of batch `from` and of batch `to`.
class CountAllocations : public Callback {
 public:
  CountAllocations(int64_t from, int64_t to) : from_(from), to_(to) {}
  void on_train_batch_end(int64_t batch, const Logs&) override {
    if (batch == from_) start_ = allocations.load();
    if (batch == to_) during_ = allocations.load() - start_;
  }
  long during() const { return during_; }

 private:
  int64_t from_, to_;
  long start_ = 0, during_ = -1;
};

TEST(Allocations, TrainingStepsAllocateNothing) {
  utils::set_random_seed(5);
  Sequential model({layers::Flatten({28, 28}), layers::Dense(300, "relu"), layers::Dense(100, "relu"),
                    layers::Dense(10, "softmax")});
  for (auto [optimizer, policy] : {std::pair{"sgd", "float32"}, {"adam", "float32"}, {"sgd", "mixed_bfloat16"}}) {
    SCOPED_TRACE(std::string(optimizer) + " " + policy);
    for (const auto& layer : model.layers()) layer->set_dtype_policy(policy);
    model.compile({.optimizer = optimizer, .metrics = {"accuracy"}});
    Tensor x({32 * 120, 28, 28});
    for (int64_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 255) / 255.0f;
    std::vector<int32_t> y(32 * 120);
    for (size_t i = 0; i < y.size(); ++i) y[i] = static_cast<int32_t>(i % 10);
    CountAllocations counter(9, 109);
    model.fit(x, y, {.epochs = 1, .verbose = 0, .seed = 1, .callbacks = {&counter}});
    EXPECT_EQ(counter.during(), 0) << "heap allocations in 100 training steps";
  }
}

TEST(Allocations, AFunctionalModelWithASkipConnectionAllocatesNothingPerStep) {
  utils::set_random_seed(6);
  auto inputs = Input({28, 28});
  auto x = layers::Flatten()(inputs);
  auto h = layers::Dense(64, "relu")(x);
  auto y = layers::Dense(64, "relu")(h);
  auto merged = layers::Concatenate()({layers::Add()({h, y}), layers::Multiply()({h, y})});
  Model model(inputs, layers::Dense(10, "softmax")(merged), "residual");
  Tensor x_data({32 * 120, 28, 28});
  for (int64_t i = 0; i < x_data.size(); ++i) x_data[i] = static_cast<float>(i % 255) / 255.0f;
  std::vector<int32_t> labels(32 * 120);
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<int32_t>(i % 10);
  for (const char* optimizer : {"sgd", "adam"}) {
    SCOPED_TRACE(optimizer);
    model.compile({.optimizer = optimizer, .metrics = {"accuracy"}});
    CountAllocations counter(9, 109);
    model.fit(x_data, labels, {.epochs = 1, .verbose = 0, .seed = 1, .callbacks = {&counter}});
    EXPECT_EQ(counter.during(), 0) << "heap allocations in 100 training steps";
  }
}

TEST(Allocations, AConvolutionalNetworkWithEveryTrainingOnlyLayerAllocatesNothingPerStep) {
  utils::set_random_seed(7);
  using namespace layers;
  Sequential model({RandomTranslation({.height_factor = 0.1, .width_factor = 0.1, .input_shape = {12, 12, 1}}),
                    RandomFlip("horizontal"), Conv2D({.filters = 4, .kernel_size = 3, .padding = "same"}),
                    BatchNormalization(), ReLU(), MaxPooling2D(), Conv2D(6, 3, "relu"), AveragePooling2D(),
                    SpatialDropout2D(0.2), Flatten(), Dropout(0.3), Dense(10, "softmax")});
  Tensor x_data({16 * 110, 12, 12});
  for (int64_t i = 0; i < x_data.size(); ++i) x_data[i] = static_cast<float>(i % 255) / 255.0f;
  std::vector<int32_t> labels(16 * 110);
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<int32_t>(i % 10);
  for (const char* optimizer : {"sgd", "adam"}) {
    SCOPED_TRACE(optimizer);
    model.compile({.optimizer = optimizer, .metrics = {"accuracy"}});
    CountAllocations counter(9, 109);
    model.fit(x_data, labels, {.epochs = 1, .batch_size = 16, .verbose = 0, .seed = 1, .callbacks = {&counter}});
    EXPECT_EQ(counter.during(), 0) << "heap allocations in 100 training steps";
  }
}

// The same with float targets, sample weights, regularizers and every kind of metric.
TEST(Allocations, WeightedRegularizedTrainingOnFloatTargetsAllocatesNothingPerStep) {
  utils::set_random_seed(8);
  Sequential model({layers::Flatten({8, 8}), layers::Dense({.units = 32, .activation = "relu", .kernel_regularizer = "l2"}),
                    layers::Dense({.units = 4, .activation = "softmax", .bias_regularizer = "l1"})});
  model.compile({.loss = losses::CategoricalCrossentropy({.label_smoothing = 0.1}),
                 .metrics = {"accuracy", "top_k_categorical_accuracy", "mse"},
                 .weighted_metrics = {"accuracy"}});
  Tensor x({32 * 110, 8, 8}), y({32 * 110, 4});
  std::vector<float> weights(32 * 110);
  for (int64_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 255) / 255.0f;
  for (int64_t i = 0; i < y.dim(0); ++i) {
    y[i * 4 + i % 4] = 1.0f;
    weights[i] = static_cast<float>(1 + i % 3);
  }
  CountAllocations counter(9, 109);
  model.fit(x, y, {.sample_weight = weights, .verbose = 0, .seed = 1, .callbacks = {&counter}});
  EXPECT_EQ(counter.during(), 0) << "heap allocations in 100 training steps";
}

}  // namespace
}  // namespace kiln
