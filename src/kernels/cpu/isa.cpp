#include "kernels/cpu/isa.hpp"

namespace kiln::cpu {

Isa best_isa() {
#if KILN_X86_64
  static const Isa isa =
      !(__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl"))
          ? (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? Isa::kAvx2
                                                                             : Isa::kBaseline)
      : __builtin_cpu_supports("avx512bf16") ? Isa::kAvx512Bf16
                                             : Isa::kAvx512;
  return isa;
#else
  return Isa::kBaseline;
#endif
}

std::vector<Isa> supported_isas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::kBaseline, Isa::kAvx2, Isa::kAvx512, Isa::kAvx512Bf16})
    if (isa <= best_isa()) out.push_back(isa);
  return out;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kAvx512Bf16:
      return "avx512_bf16";
    case Isa::kAvx512:
      return "avx512";
    case Isa::kAvx2:
      return "avx2";
    case Isa::kBaseline:
      break;
  }
  return KILN_X86_64 ? "sse2" : "baseline";
}

}  // namespace kiln::cpu
