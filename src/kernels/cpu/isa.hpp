// The instruction sets kiln's kernels are compiled for, and which of them this CPU runs: every
// kernel is built once per set and picked at run time, so one binary runs anywhere.
#pragma once

#include <vector>

// Whether the x86-64 kernels (AVX2, AVX-512, their intrinsics and target attributes) are built.
#if defined(__x86_64__)
#define KILN_X86_64 1
#else
#define KILN_X86_64 0
#endif

namespace kiln::cpu {

// Best last. kBaseline is what the compiler targets by default (SSE2 on x86-64, NEON on
// AArch64): the portable path, written with GCC's generic vectors, and the only one on CPUs other
// than x86-64. kAvx512Bf16 adds the bfloat16 dot product (vdpbf16ps); below it, bfloat16
// products are computed exactly as float32 FMAs.
enum class Isa { kBaseline, kAvx2, kAvx512, kAvx512Bf16 };
Isa best_isa();                     // the best this CPU supports
std::vector<Isa> supported_isas();  // every one this CPU can run
const char* isa_name(Isa isa);

}  // namespace kiln::cpu
