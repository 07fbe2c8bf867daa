// The gradient arena's sum across the processes of a data-parallel run, in buckets started as
// backward produces them (the arena's tail first, since backward runs from the last layer).
#pragma once

#include <chrono>
#include <cstdint>

#include "kiln/distribute.hpp"

namespace kiln::detail {

class GradientExchange {
 public:
  // Buckets of at least bucket_floats values; 0: one sum of the whole arena after backward.
  GradientExchange(distribute::Communicator& comm, int64_t bucket_floats)
      : comm_(comm), bucket_(bucket_floats) {}
  // A step's backward begins over grads[0, size).
  void begin(float* grads, int64_t size);
  // grads[offset, size) are final (offsets only decrease within a step).
  void ready(int64_t offset);
  // Sums what is left and waits for every bucket: the arena then holds the sum.
  void finish();
  // Time spent in finish() waiting for the sums, since construction: the communication that
  // backward did not hide.
  double waited_seconds() const { return std::chrono::duration<double>(waited_).count(); }
  int64_t buckets() const { return buckets_; }

 private:
  void start(int64_t from);

  distribute::Communicator& comm_;
  int64_t bucket_;
  float* grads_ = nullptr;
  int64_t size_ = 0, started_ = 0;  // grads_[started_, size_) are being summed
  int64_t buckets_ = 0;
  std::chrono::steady_clock::duration waited_{};
};

}  // namespace kiln::detail
