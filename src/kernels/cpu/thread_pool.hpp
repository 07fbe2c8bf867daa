// A persistent pool of worker threads. run(n, fn) calls fn(i) for i in [0, n) across the workers
// and the calling thread, and returns when all calls are done. No allocation per run. Any thread
// may call run at any time: while the pool is busy with another caller's run (another thread's,
// or an enclosing run's, for a task that calls run itself), the calls run on the calling thread.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
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

  // fn(i) for every task i in [0, tasks); task i runs on thread i % size().
  template <typename Fn>
  void run(int64_t tasks, Fn&& fn) {
    if (tasks <= 0) return;
    if (tasks == 1 || workers_.empty() || busy_.exchange(true, std::memory_order_acquire)) {
      for (int64_t i = 0; i < tasks; ++i) fn(i);
      return;
    }
    dispatch(tasks, [](void* f, int64_t i) { (*static_cast<Fn*>(f))(i); }, &fn);
    busy_.store(false, std::memory_order_release);
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
  void dispatch(int64_t tasks, Thunk thunk, void* fn);
  void work(int index);
  void run_share(int index);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};
  std::atomic<bool> busy_{false};  // a run is using the workers
  Thunk thunk_ = nullptr;
  void* fn_ = nullptr;
  int64_t tasks_ = 0;
};

}  // namespace kiln::cpu
