// Memory planning by liveness: buffers that are never alive at the same step share memory.
// Each buffer is needed from its first step to its last (both included); the planner lays them
// out in one arena, step by step, reusing the memory of buffers whose last step has passed
// (best fit among the free blocks, else the arena's end), as ggml's graph allocator does.
#pragma once

#include <cstdint>
#include <vector>

namespace kiln::detail {

struct Lifetime {
  int64_t size = 0;  // floats; 0 for no buffer
  int first = 0, last = 0;
};

struct ArenaPlan {
  std::vector<int64_t> offsets;  // per lifetime, in floats
  int64_t total = 0;             // floats
};

// Offsets are multiples of 16 floats (64 bytes), like every tensor's storage.
ArenaPlan plan_arena(const std::vector<Lifetime>& buffers);

}  // namespace kiln::detail
