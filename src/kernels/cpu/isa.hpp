// The instruction sets kiln's kernels are compiled for, and which of them this CPU runs: every
// kernel is built once per set and picked at run time, so one binary runs anywhere.
#pragma once

#include <vector>

namespace kiln::cpu {

// Best last. kAvx512Bf16 adds the bfloat16 dot product (vdpbf16ps); below it, bfloat16 products
// are computed exactly as float32 FMAs.
enum class Isa { kSse2, kAvx2, kAvx512, kAvx512Bf16 };
Isa best_isa();                     // the best this CPU supports
std::vector<Isa> supported_isas();  // every one this CPU can run
const char* isa_name(Isa isa);

}  // namespace kiln::cpu
