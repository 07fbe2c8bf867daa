// A persistent pool of worker threads. run(n, fn) calls fn(i) for i in [0, n) across the workers
// and the calling thread, and returns when all calls are done. No allocation per run. Tasks are
// claimed, not assigned: each thread, the caller included, takes the next task nobody has
// started, so a worker that the OS has descheduled (another process on its core) holds up no
// more than the task it already started. A task that throws makes run throw that exception in
// the caller once every started task has finished; the pool stays usable. Workers that keep
// arriving late or not at all (another process shares their core) are benched: runs go to the
// caller alone for 100 ms, then the workers are tried again, benched twice as long each time
// they still do not help (up to 2 s). Any thread may call
// run at any time: while the pool is busy with another caller's run (another thread's, or an
// enclosing run's, for a task that calls run itself), the calls run on the calling thread.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace kiln::cpu {

class ThreadPool {
 public:
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // fn(i) for every task i in [0, tasks), on whichever thread claims it first.
  template <typename Fn>
  void run(int64_t tasks, Fn&& fn) {
    if (tasks <= 0) return;
    if (tasks == 1 || workers_.empty() || !workers_on_time() || busy_.exchange(true, std::memory_order_acquire)) {
      for (int64_t i = 0; i < tasks; ++i) fn(i);
      return;
    }
    Release release{busy_};
    // A run publishes at most kMaxTasks tasks at once (the claim word's field); more are run as
    // consecutive runs.
    for (int64_t base = 0; base < tasks; base += kMaxTasks) {
      auto shifted = [&](int64_t i) { fn(base + i); };
      dispatch(std::min(tasks - base, kMaxTasks), &thunk<decltype(shifted)>, &shifted, true);
    }
  }

  // fn() once on each of the pool's threads (the caller's too), for per-thread set-up. It waits
  // for any other caller's run to end and for every worker to take its share, so it is for
  // set-up, not for the hot path, and must not be called from a task.
  template <typename Fn>
  void run_on_each_thread(Fn&& fn) {
    while (busy_.exchange(true, std::memory_order_acquire)) std::this_thread::yield();
    Release release{busy_};
    std::atomic<int> arrived{0};
    const int threads = size();
    auto once = [&](int64_t) {
      fn();
      // A thread that has done its share waits here, so it cannot claim a second one.
      arrived.fetch_add(1, std::memory_order_acq_rel);
      while (arrived.load(std::memory_order_acquire) < threads) std::this_thread::yield();
    };
    dispatch(threads, &thunk<decltype(once)>, &once, false);
  }

  // fn(begin, end) over [0, n) in one contiguous range per thread; ranges are multiples of
  // `grain` (but the last), and n below 2 * grain runs on the calling thread alone.
  template <typename Fn>
  void run_ranges(int64_t n, int64_t grain, Fn&& fn) {
    int64_t parts = std::min<int64_t>(size(), n / std::max<int64_t>(grain, 1));
    if (parts <= 1) return fn(int64_t{0}, n);
    int64_t chunks = (n + grain - 1) / grain;
    run(parts, [&](int64_t t) {
      int64_t begin = std::min(n, chunks * t / parts * grain), end = std::min(n, chunks * (t + 1) / parts * grain);
      fn(begin, end);
    });
  }

  // run_ranges over `rows` rows of `row_values` values each, in shares of about 4k values (a
  // microsecond or so of element-wise work): fewer, and the wake-up of another thread costs more
  // than it saves; a batch of 32 images or a softmax over 1000 x 10 still splits in two.
  template <typename Fn>
  void run_rows(int64_t rows, int64_t row_values, Fn&& fn) {
    run_ranges(rows, std::max<int64_t>(1, int64_t{1 << 12} / std::max<int64_t>(row_values, 1)),
               std::forward<Fn>(fn));
  }

  // The pool kernels use, sized by kiln::set_num_threads.
  static ThreadPool& global();

 private:
  using Thunk = void (*)(void*, int64_t);
  static constexpr int64_t kMaxTasks = 0xffff;

  template <typename Fn>
  static void thunk(void* fn, int64_t i) {
    (*static_cast<Fn*>(fn))(i);
  }
  // Gives the workers back when a run ends, by return or by exception.
  struct Release {
    std::atomic<bool>& busy;
    ~Release() { busy.store(false, std::memory_order_release); }
  };

  // Publishes a run and works on it until every task has finished; rethrows a task's exception.
  // With `monitor`, how long the caller waited for the workers counts towards their lateness.
  void dispatch(int64_t tasks, Thunk thunk, void* fn, bool monitor);
  // False while the workers are benched for being late.
  bool workers_on_time() const;
  // Records one run: the caller worked `own` and then waited `waited` (nanoseconds); `helped`:
  // a worker ran some of the tasks.
  void record_lateness(int64_t own, int64_t waited, bool helped);
  void work();
  // Claims and runs tasks of run `run` until none is left unclaimed; returns how many it ran.
  int64_t claim_tasks(uint32_t run);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  // The claim word: run number (high 32 bits), task count (16 bits), next unclaimed task (low 16
  // bits). A thread claims task i with one compare-and-swap of the whole word, so a claim can
  // only succeed in the run it read: a worker that read the word of an earlier run and was
  // descheduled fails its swap instead of taking a task of the current one. A successful claim
  // keeps the run from finishing, so thunk_ and fn_ are that run's while the task runs.
  std::atomic<uint64_t> claim_{0};
  std::atomic<int64_t> done_{0};  // tasks of the current run finished (run or skipped)
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};
  std::atomic<bool> busy_{false};    // a run is using the workers
  std::atomic<bool> failed_{false};  // a task of the current run threw; the rest are skipped
  // Lateness (touched by the caller that holds busy_; benched_until_ is read by any caller).
  std::atomic<int64_t> benched_until_{0};  // steady_clock nanoseconds
  int runs_in_window_ = 0, unhelpful_in_window_ = 0;
  int64_t bench_time_ = 0;
  std::mutex error_mutex_;
  std::exception_ptr error_;
  Thunk thunk_ = nullptr;
  void* fn_ = nullptr;
};

}  // namespace kiln::cpu
