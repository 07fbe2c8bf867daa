#include "kernels/cpu/merge.hpp"

#include <algorithm>

namespace kiln::cpu {

void merge_forward(MergeOp op, float* out, const float* const* in, int64_t k, int64_t n) {
  std::copy_n(in[0], n, out);
  for (int64_t j = 1; j < k; ++j) {
    const float* x = in[j];
    switch (op) {
      case MergeOp::kAdd:
      case MergeOp::kAverage:
        for (int64_t i = 0; i < n; ++i) out[i] += x[i];
        break;
      case MergeOp::kSubtract:
        for (int64_t i = 0; i < n; ++i) out[i] -= x[i];
        break;
      case MergeOp::kMultiply:
        for (int64_t i = 0; i < n; ++i) out[i] *= x[i];
        break;
      case MergeOp::kMaximum:
        for (int64_t i = 0; i < n; ++i) out[i] = std::max(out[i], x[i]);
        break;
      case MergeOp::kMinimum:
        for (int64_t i = 0; i < n; ++i) out[i] = std::min(out[i], x[i]);
        break;
    }
  }
  if (op == MergeOp::kAverage) {
    const float scale = 1.0f / static_cast<float>(k);
    for (int64_t i = 0; i < n; ++i) out[i] *= scale;
  }
}

namespace {

// dst = or += value(i) over n elements.
template <typename Value>
void store(float* dst, bool accumulate, int64_t n, Value&& value) {
  if (accumulate)
    for (int64_t i = 0; i < n; ++i) dst[i] += value(i);
  else
    for (int64_t i = 0; i < n; ++i) dst[i] = value(i);
}

// Whether input j holds element i's extreme and no earlier input does.
bool first_extreme(MergeOp op, const float* const* in, int64_t k, int64_t j, int64_t i) {
  float best = in[0][i];
  int64_t at = 0;
  for (int64_t m = 1; m < k; ++m)
    if (op == MergeOp::kMaximum ? in[m][i] > best : in[m][i] < best) {
      best = in[m][i];
      at = m;
    }
  return at == j;
}

}  // namespace

void merge_backward(MergeOp op, float* const* din, const uint8_t* accumulate, const float* dout,
                    const float* const* in, int64_t k, int64_t n) {
  for (int64_t j = 0; j < k; ++j) {
    if (!din[j]) continue;
    switch (op) {
      case MergeOp::kAdd:
        store(din[j], accumulate[j], n, [&](int64_t i) { return dout[i]; });
        break;
      case MergeOp::kSubtract:
        store(din[j], accumulate[j], n, [&](int64_t i) { return j == 0 ? dout[i] : -dout[i]; });
        break;
      case MergeOp::kAverage: {
        const float scale = 1.0f / static_cast<float>(k);
        store(din[j], accumulate[j], n, [&](int64_t i) { return dout[i] * scale; });
        break;
      }
      case MergeOp::kMultiply:
        store(din[j], accumulate[j], n, [&](int64_t i) {
          float g = dout[i];
          for (int64_t m = 0; m < k; ++m)
            if (m != j) g *= in[m][i];
          return g;
        });
        break;
      case MergeOp::kMaximum:
      case MergeOp::kMinimum:
        store(din[j], accumulate[j], n,
              [&](int64_t i) { return first_extreme(op, in, k, j, i) ? dout[i] : 0.0f; });
        break;
    }
  }
}

}  // namespace kiln::cpu
