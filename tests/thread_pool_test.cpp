// The thread pool with more than one caller: threads of the user's program calling kiln at the
// same time, and tasks that call the pool themselves. Each must get exactly its own work done.
#include "kernels/cpu/thread_pool.hpp"

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <cstring>
#include <thread>

#include "helpers.hpp"
#include "kernels/cpu/gemm.hpp"

namespace kiln {
namespace {

TEST(ThreadPool, ConcurrentCallersEachGetTheirOwnResults) {
  // Two threads multiplying at once through the one global pool, each checking every result
  // against the one computed alone (once, two such callers overwrote each other's task now
  // and then: a wrong product in about 1 of 4,000, silently).
  Tensor A = testing::random_tensor({32 * 784}, 21), B = testing::random_tensor({784 * 300}, 22);
  Tensor alone({32 * 300});
  cpu::gemm(false, false, 32, 300, 784, 1.0f, A.data(), 784, B.data(), 300, 0.0f, alone.data(),
            300);
  std::atomic<int> wrong{0};
  auto caller = [&] {
    Tensor C({32 * 300});
    for (int i = 0; i < 500; ++i) {
      cpu::gemm(false, false, 32, 300, 784, 1.0f, A.data(), 784, B.data(), 300, 0.0f, C.data(),
                300);
      if (std::memcmp(C.data(), alone.data(), sizeof(float) * C.size()) != 0) ++wrong;
    }
  };
  std::thread first(caller), second(caller);
  first.join();
  second.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(ThreadPool, ConcurrentModelsPredictAsTheyDoAlone) {
  utils::set_random_seed(23);
  Sequential a(
      {layers::Flatten({28, 28}), layers::Dense(300, "relu"), layers::Dense(10, "softmax")});
  Sequential b(
      {layers::Flatten({28, 28}), layers::Dense(100, "relu"), layers::Dense(10, "softmax")});
  Tensor x = testing::random_tensor({64, 28, 28}, 24, 0.0f, 1.0f);
  Tensor expect_a = a.predict(x), expect_b = b.predict(x);
  std::atomic<int> wrong{0};
  auto caller = [&](Sequential& m, const Tensor& expected) {
    for (int i = 0; i < 50; ++i) {
      Tensor got = m.predict(x);
      if (std::memcmp(got.data(), expected.data(), sizeof(float) * got.size()) != 0) ++wrong;
    }
  };
  std::thread first(caller, std::ref(a), std::cref(expect_a));
  std::thread second(caller, std::ref(b), std::cref(expect_b));
  first.join();
  second.join();
  EXPECT_EQ(wrong.load(), 0);
}

// A training that relies on the global state, as a user's program would: the seed and the dtype
// policy set on the calling thread, the weights and the shuffling drawn from the global
// generator. Returns the trained weights.
std::vector<float> train_with_global_state(uint64_t seed, const std::string& policy) {
  utils::set_random_seed(seed);
  mixed_precision::set_global_policy(policy);
  Sequential model({layers::Flatten({16, 16}), layers::Dense(128, "relu"), layers::Dense(5, "softmax")});
  model.compile({.optimizer = "adam"});
  Tensor x = testing::random_tensor({256, 16, 16}, seed);
  std::vector<int32_t> y(256);
  for (size_t i = 0; i < y.size(); ++i) y[i] = static_cast<int32_t>((i * 7 + seed) % 5);
  model.fit(x, y, {.epochs = 2, .verbose = 0});
  mixed_precision::set_global_policy("float32");
  EXPECT_EQ(model.layers()[1]->dtype_policy(), policy);
  return {model.weights().data(), model.weights().data() + model.weights().size()};
}

TEST(ThreadPool, TwoTrainingsInTwoThreadsGetTheirSingleThreadResultsBitForBit) {
  // The global generator and dtype policy are per thread: two threads that each seed and set
  // their own get exactly what each got alone, however their steps interleave.
  std::vector<float> alone_a = train_with_global_state(31, "float32");
  std::vector<float> alone_b = train_with_global_state(32, "mixed_bfloat16");
  for (int round = 0; round < 3; ++round) {
    std::vector<float> a, b;
    std::thread first([&] { a = train_with_global_state(31, "float32"); });
    std::thread second([&] { b = train_with_global_state(32, "mixed_bfloat16"); });
    first.join();
    second.join();
    EXPECT_TRUE(a == alone_a) << "round " << round;
    EXPECT_TRUE(b == alone_b) << "round " << round;
  }
}

TEST(ThreadPool, ThreadsThatSetNothingUseTheProcessSeedAndPolicy) {
  utils::set_random_seed(77);
  uint64_t here = Rng(77).next(), there = 0;
  std::string policy;
  mixed_precision::set_global_policy("mixed_bfloat16");
  std::thread other([&] {
    there = utils::global_rng().next();
    policy = layers::Dense(2)->dtype_policy();
  });
  other.join();
  mixed_precision::set_global_policy("float32");
  EXPECT_EQ(there, here) << "a thread's first draw comes from the seed set last";
  EXPECT_EQ(policy, "mixed_bfloat16");
}

TEST(ThreadPool, TasksThatRunThePoolCompleteEveryCall) {
  cpu::ThreadPool& pool = cpu::ThreadPool::global();
  std::atomic<int> hits[3][5] = {};
  pool.run(3, [&](int64_t t) { pool.run(5, [&](int64_t i) { ++hits[t][i]; }); });
  for (auto& row : hits)
    for (auto& h : row) EXPECT_EQ(h.load(), 1);
}

TEST(ThreadPool, ATaskThatThrowsBecomesTheCallersExceptionAndThePoolStaysUsable) {
  cpu::ThreadPool pool(2);
  const auto caller = std::this_thread::get_id();
  // Thrown on the calling thread: the call throws only once the worker's tasks are done (they
  // use the caller's stack), and the pool takes the next run.
  std::atomic<int> ran{0};
  EXPECT_THROW(pool.run(16,
                        [&](int64_t i) {
                          if (std::this_thread::get_id() == caller && i > 0) throw std::bad_alloc();
                          std::this_thread::sleep_for(std::chrono::microseconds(200));
                          ++ran;
                        }),
               std::bad_alloc);
  // Thrown on a worker: each task takes long enough for the worker to claim one.
  try {
    pool.run(16, [&](int64_t) {
      if (std::this_thread::get_id() != caller) throw std::runtime_error("from a worker");
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    });
    FAIL() << "the worker's exception was lost";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "from a worker");
  }
  for (int round = 0; round < 100; ++round) {
    std::atomic<int> hits[7] = {};
    pool.run(7, [&](int64_t i) { ++hits[i]; });
    for (auto& h : hits) ASSERT_EQ(h.load(), 1) << "round " << round;
  }
}

TEST(ThreadPool, TheCallerRunsTasksThatNoWorkerHasStarted) {
  // A worker holding one task (as a worker descheduled by the OS would) must not hold up the
  // others: the caller claims them. Had tasks been dealt out in advance (task i to thread
  // i % 2), the worker's other tasks would wait for the one it holds, which waits for them.
  cpu::ThreadPool pool(2);
  const auto caller = std::this_thread::get_id();
  std::atomic<int> done{0}, timeouts{0};
  for (int round = 0; round < 20; ++round) {
    done = 0;
    pool.run(8, [&](int64_t) {
      if (std::this_thread::get_id() != caller) {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (done.load() < 7)
          if (std::chrono::steady_clock::now() > deadline) {
            ++timeouts;
            break;
          }
      }
      ++done;
    });
    EXPECT_EQ(done.load(), 8);
  }
  EXPECT_EQ(timeouts.load(), 0) << "a worker's task waited for tasks nobody else would run";
}

}  // namespace
}  // namespace kiln
