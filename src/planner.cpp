#include "planner.hpp"

#include <algorithm>
#include <map>
#include <numeric>

namespace kiln::detail {

namespace {

constexpr int64_t kAlign = 16;  // floats
int64_t aligned(int64_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

// Free memory below the arena's end, as blocks by offset; adjacent blocks are merged.
class FreeBlocks {
 public:
  // The smallest block that holds `size`, taken from its start; -1 if none.
  int64_t take(int64_t size) {
    auto best = blocks_.end();
    for (auto it = blocks_.begin(); it != blocks_.end(); ++it)
      if (it->second >= size && (best == blocks_.end() || it->second < best->second)) best = it;
    if (best == blocks_.end()) return -1;
    int64_t offset = best->first, rest = best->second - size;
    blocks_.erase(best);
    if (rest > 0) blocks_[offset + size] = rest;
    return offset;
  }
  void give(int64_t offset, int64_t size) {
    auto next = blocks_.lower_bound(offset);
    if (next != blocks_.end() && next->first == offset + size) {
      size += next->second;
      next = blocks_.erase(next);
    }
    if (next != blocks_.begin()) {
      auto prev = std::prev(next);
      if (prev->first + prev->second == offset) {
        prev->second += size;
        return;
      }
    }
    blocks_[offset] = size;
  }
  // Takes a free block that ends at `end` (the arena's end), so that growing the arena reuses
  // it; returns its start, or `end` if there is none.
  int64_t take_tail(int64_t end) {
    if (blocks_.empty()) return end;
    auto last = std::prev(blocks_.end());
    if (last->first + last->second != end) return end;
    int64_t start = last->first;
    blocks_.erase(last);
    return start;
  }

 private:
  std::map<int64_t, int64_t> blocks_;
};

}  // namespace

ArenaPlan plan_arena(const std::vector<Lifetime>& buffers) {
  ArenaPlan plan;
  plan.offsets.assign(buffers.size(), 0);
  int steps = 0;
  for (const auto& b : buffers) steps = std::max(steps, b.last + 1);
  std::vector<std::vector<size_t>> starting(steps), ending(steps);
  for (size_t i = 0; i < buffers.size(); ++i)
    if (buffers[i].size > 0) {
      starting[buffers[i].first].push_back(i);
      ending[buffers[i].last].push_back(i);
    }
  FreeBlocks free;
  int64_t end = 0;
  for (int step = 0; step < steps; ++step) {
    // Larger buffers first, so that small ones fill the gaps they leave.
    auto& now = starting[step];
    std::stable_sort(now.begin(), now.end(), [&](size_t a, size_t b) { return buffers[a].size > buffers[b].size; });
    for (size_t i : now) {
      int64_t size = aligned(buffers[i].size);
      int64_t offset = free.take(size);
      if (offset < 0) {
        offset = free.take_tail(end);
        end = offset + size;
      }
      plan.offsets[i] = offset;
    }
    for (size_t i : ending[step]) free.give(plan.offsets[i], aligned(buffers[i].size));
  }
  plan.total = end;
  return plan;
}

}  // namespace kiln::detail
