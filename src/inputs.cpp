#include <algorithm>
#include <cstring>

#include "kernels/cpu/convert.hpp"
#include "kernels/cpu/thread_pool.hpp"
#include "kiln/trainer.hpp"

namespace kiln {

int64_t Inputs::row_size() const {
  int64_t n = 1;
  for (size_t i = 1; i < shape_.size(); ++i) n *= shape_[i];
  return n;
}

Inputs Inputs::slice(int64_t begin, int64_t end) const {
  return is_float_ ? Inputs(floats_.slice(begin, end)) : Inputs(bytes_.slice(begin, end));
}

template <typename RowOf>
void Inputs::to_floats(int64_t n, RowOf&& row_of, float* dst, double scale) const {
  const int64_t size = row_size();
  // Split across the pool: a batch of 32 images then takes two cores' worth of cache misses and
  // conversions, while the second core would otherwise wait for the next product.
  cpu::ThreadPool::global().run_rows(n, size, [&](int64_t first, int64_t last) {
    for (int64_t i = first; i < last; ++i) {
      if (is_float_)
        std::memcpy(dst + i * size, floats_.data() + row_of(i) * size, sizeof(float) * size);
      else
        cpu::scale_bytes(bytes_.data() + row_of(i) * size, size, scale, dst + i * size);
    }
  });
}

void Inputs::gather(const int64_t* rows, int64_t n, float* dst, double scale) const {
  to_floats(n, [rows](int64_t i) { return rows[i]; }, dst, scale);
}

void Inputs::copy_rows(int64_t begin, int64_t n, float* dst, double scale) const {
  to_floats(n, [begin](int64_t i) { return begin + i; }, dst, scale);
}

void Inputs::prefetch(const int64_t* rows, int64_t n) const {
  const int64_t bytes = row_size() * (is_float_ ? static_cast<int64_t>(sizeof(float)) : 1);
  const char* base = is_float_ ? reinterpret_cast<const char*>(floats_.data())
                               : reinterpret_cast<const char*>(bytes_.data());
  // Split across the pool too: each prefetch holds one of a core's few miss buffers until its
  // line arrives, so one core issuing a whole batch's stalls for several microseconds.
  cpu::ThreadPool::global().run_rows(n, row_size(), [&](int64_t first, int64_t last) {
    for (int64_t i = first; i < last; ++i)
      for (int64_t off = 0; off < bytes; off += 64) __builtin_prefetch(base + rows[i] * bytes + off);
  });
}

}  // namespace kiln
