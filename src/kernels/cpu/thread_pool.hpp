// A persistent pool of worker threads. run(n, fn) calls fn(i) for i in [0, n) across the workers
// and the calling thread, and returns when all calls are done. No allocation per run.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
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
    if (tasks == 1 || workers_.empty()) {
      for (int64_t i = 0; i < tasks; ++i) fn(i);
      return;
    }
    dispatch(tasks, [](void* f, int64_t i) { (*static_cast<Fn*>(f))(i); }, &fn);
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
  bool stop_ = false;
  Thunk thunk_ = nullptr;
  void* fn_ = nullptr;
  int64_t tasks_ = 0;
};

}  // namespace kiln::cpu
