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
constexpr uint64_t kRunShift = 32, kTasksShift = 16, kField = 0xffff;

// A run did not gain from the workers when none of them ran a task (the caller had claimed them
// all before a worker came: it was descheduled, or sleeping because it had been), or when the
// caller, done with its own tasks, waited more than twice its own work plus 100 µs (a worker the
// OS descheduled mid-task holds the caller for a time slice, milliseconds). A quarter of 256 runs
// like that benches the workers: then each run only pays for publishing tasks and waking a
// worker. Measured over a seed-model epoch: 4.5% of runs with no worker's help on a quiet
// machine, 98% with a busy loop on the other core.
constexpr int64_t kLateSlackNs = 100'000, kMinBenchNs = 100'000'000, kMaxBenchNs = 2'000'000'000;
constexpr int kWindowRuns = 256, kUnhelpfulRuns = 64;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
uint32_t run_of(uint64_t word) { return static_cast<uint32_t>(word >> kRunShift); }

}  // namespace

ThreadPool::ThreadPool(int threads) {
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { work(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mutex_);
    stop_.store(true, std::memory_order_release);
    claim_.fetch_add(uint64_t{1} << kRunShift);  // a new run number wakes every worker
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

int64_t ThreadPool::claim_tasks(uint32_t run) {
  int64_t ran = 0;
  uint64_t word = claim_.load(std::memory_order_acquire);
  for (;;) {
    int64_t next = static_cast<int64_t>(word & kField);
    if (run_of(word) != run || next >= static_cast<int64_t>((word >> kTasksShift) & kField)) return ran;
    if (!claim_.compare_exchange_weak(word, word + 1, std::memory_order_acq_rel, std::memory_order_acquire))
      continue;
    if (!failed_.load(std::memory_order_relaxed)) {
      try {
        thunk_(fn_, next);
      } catch (...) {
        std::lock_guard lock(error_mutex_);
        if (!error_) error_ = std::current_exception();
        failed_.store(true, std::memory_order_relaxed);
      }
    }
    done_.fetch_add(1, std::memory_order_acq_rel);
    ++ran;
    word = claim_.load(std::memory_order_acquire);
  }
}

bool ThreadPool::workers_on_time() const {
  int64_t until = benched_until_.load(std::memory_order_relaxed);
  return until == 0 || now_ns() >= until;
}

void ThreadPool::record_lateness(int64_t own, int64_t waited, bool helped) {
  ++runs_in_window_;
  if (!helped || waited > 2 * own + kLateSlackNs) ++unhelpful_in_window_;
  if (unhelpful_in_window_ >= kUnhelpfulRuns) {
    bench_time_ = bench_time_ == 0 ? kMinBenchNs : std::min(2 * bench_time_, kMaxBenchNs);
    benched_until_.store(now_ns() + bench_time_, std::memory_order_relaxed);
    runs_in_window_ = unhelpful_in_window_ = 0;
  } else if (runs_in_window_ >= kWindowRuns) {
    bench_time_ = 0;  // on time for a whole window: the next bench starts short again
    runs_in_window_ = unhelpful_in_window_ = 0;
  }
}

void ThreadPool::dispatch(int64_t tasks, Thunk thunk, void* fn, bool monitor) {
  const int64_t start = monitor ? now_ns() : 0;
  // Nothing of the previous run is in flight: it finished, and a late worker cannot claim from
  // it (its run number is gone), so these are safe to reset before the new word is published.
  thunk_ = thunk;
  fn_ = fn;
  done_.store(0, std::memory_order_relaxed);
  failed_.store(false, std::memory_order_relaxed);
  error_ = nullptr;
  uint32_t run = run_of(claim_.load(std::memory_order_relaxed)) + 1;
  // Sequentially consistent, with the worker's sleepers_ increment and run check: either this
  // sees the sleeper or the sleeper sees the new run.
  claim_.store((uint64_t{run} << kRunShift) | (static_cast<uint64_t>(tasks) << kTasksShift));
  if (sleepers_.load() > 0) {
    std::lock_guard lock(mutex_);  // orders the wake after a sleeper's check of the run
    wake_.notify_all();
  }
  const bool helped = claim_tasks(run) < tasks;
  const int64_t own_done = monitor ? now_ns() : 0;
  auto finished = [&] { return done_.load(std::memory_order_acquire) == tasks; };
  if (!spin_until(finished))
    while (!finished()) std::this_thread::yield();
  if (monitor) record_lateness(own_done - start, now_ns() - own_done, helped);
  if (error_) std::rethrow_exception(error_);
}

void ThreadPool::work() {
  uint32_t seen = 0;  // the run number at construction: a worker that starts late still sees a stop
  for (;;) {
    uint32_t run = seen;
    spin_until([&] { return (run = run_of(claim_.load(std::memory_order_acquire))) != seen; });
    if (run == seen) {
      std::unique_lock lock(mutex_);
      sleepers_.fetch_add(1);
      wake_.wait(lock, [&] { return run_of(claim_.load()) != seen; });
      sleepers_.fetch_sub(1, std::memory_order_acq_rel);
      run = run_of(claim_.load(std::memory_order_acquire));
    }
    seen = run;
    if (stop_.load(std::memory_order_acquire)) return;
    claim_tasks(run);
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
