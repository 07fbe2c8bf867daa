#include "kernels/cpu/thread_pool.hpp"

#include <chrono>
#include <memory>

#include "kiln/error.hpp"
#include "kiln/parallel.hpp"

namespace kiln::cpu {

namespace {
// How long a waiting thread spins before it sleeps (a worker) or yields (the caller). A training
// step dispatches a product every few tens of microseconds, with serial work in between (the
// batch's gather, the loss); a worker that sleeps through that has to be woken by a system call,
// which costs more than the work. (A budget of 20,000 spins, ~10 µs here, put the workers to sleep
// every step: epochs 5% slower than with 300 µs.)
constexpr auto kSpinTime = std::chrono::microseconds(300);

// Spins until done() or kSpinTime has passed; returns done(). It yields the core every ~1 µs of
// spinning: when more threads want the cores than there are (two trainings at once, a test run
// in parallel), a thread that spins without yielding holds a core its peer needs. (Two epochs at
// once on this 2-core machine: 7.9 s each without the yields, 1.0-1.2 s with them; alone, no
// measurable difference.)
template <typename Done>
bool spin_until(Done&& done) {
  auto deadline = std::chrono::steady_clock::now() + kSpinTime;
  for (;;) {
    for (int i = 0; i < 1024; ++i)
      if (done()) return true;
    if (std::chrono::steady_clock::now() > deadline) return done();
    std::this_thread::yield();
  }
}

std::mutex global_mutex;
std::unique_ptr<ThreadPool> global_pool;
int requested_threads = 0;
}  // namespace

ThreadPool::ThreadPool(int threads) {
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { work(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mutex_);
    stop_.store(true, std::memory_order_release);
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::run_share(int index) {
  for (int64_t i = index; i < tasks_; i += size()) thunk_(fn_, i);
}

void ThreadPool::dispatch(int64_t tasks, Thunk thunk, void* fn) {
  // Workers read these only after seeing the new generation (release/acquire on generation_).
  thunk_ = thunk;
  fn_ = fn;
  tasks_ = tasks;
  pending_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
  // Sequentially consistent, with the worker's sleepers_ increment and generation check: either
  // this sees the sleeper or the sleeper sees the new generation.
  generation_.fetch_add(1);
  if (sleepers_.load() > 0) {
    std::lock_guard lock(mutex_);  // orders the wake after a sleeper's check of the generation
    wake_.notify_all();
  }
  run_share(0);
  auto finished = [this] { return pending_.load(std::memory_order_acquire) == 0; };
  if (!spin_until(finished))
    while (!finished()) std::this_thread::yield();
}

void ThreadPool::work(int index) {
  uint64_t seen = 0;
  for (;;) {
    uint64_t gen = seen;
    spin_until([&] { return (gen = generation_.load(std::memory_order_acquire)) != seen; });
    if (gen == seen) {
      std::unique_lock lock(mutex_);
      sleepers_.fetch_add(1);
      wake_.wait(lock, [&] { return generation_.load() != seen; });
      sleepers_.fetch_sub(1, std::memory_order_acq_rel);
      gen = generation_.load(std::memory_order_acquire);
    }
    seen = gen;
    if (stop_.load(std::memory_order_acquire)) return;
    run_share(index);
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

ThreadPool& ThreadPool::global() {
  std::lock_guard lock(global_mutex);
  if (!global_pool) {
    int n = requested_threads > 0 ? requested_threads
                                  : static_cast<int>(std::thread::hardware_concurrency());
    global_pool = std::make_unique<ThreadPool>(n > 0 ? n : 1);
  }
  return *global_pool;
}

}  // namespace kiln::cpu

namespace kiln {

int num_threads() { return cpu::ThreadPool::global().size(); }

void set_num_threads(int n) {
  if (n < 1) throw ValueError("set_num_threads: expected at least 1 thread, received " +
                              std::to_string(n));
  std::lock_guard lock(cpu::global_mutex);
  if (cpu::global_pool && cpu::global_pool->size() == n) return;
  cpu::global_pool.reset();
  cpu::requested_threads = n;
}

}  // namespace kiln
