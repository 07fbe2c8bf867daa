#include "distribute/gradient_exchange.hpp"

namespace kiln::detail {

void GradientExchange::begin(float* grads, int64_t size) {
  grads_ = grads;
  size_ = started_ = size;
}

void GradientExchange::start(int64_t from) {
  comm_.start_sum(grads_ + from, started_ - from);
  started_ = from;
  ++buckets_;
}

void GradientExchange::ready(int64_t offset) {
  if (bucket_ <= 0) return;
  if (started_ - offset >= bucket_)
    start(offset);
  else if (started_ < size_)
    comm_.progress();
}

void GradientExchange::finish() {
  if (started_ > 0) start(0);
  const auto t0 = std::chrono::steady_clock::now();
  comm_.wait_all();
  waited_ += std::chrono::steady_clock::now() - t0;
}

}  // namespace kiln::detail
