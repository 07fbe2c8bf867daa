#include "kiln/mixed_precision.hpp"

#include "kernels/cpu/gemm.hpp"
#include "kiln/error.hpp"

namespace kiln::mixed_precision {

namespace {
std::string& global() {
  static std::string policy = "float32";
  return policy;
}
}  // namespace

const std::string& check_policy(const std::string& name) {
  if (name != "float32" && name != "mixed_bfloat16")
    throw ValueError("unknown dtype policy '" + name +
                     "'; kiln knows \"float32\" and \"mixed_bfloat16\"");
  return name;
}

void set_global_policy(const std::string& name) { global() = check_policy(name); }

const std::string& global_policy() { return global(); }

bool has_native_bfloat16() { return cpu::best_isa() == cpu::Isa::kAvx512Bf16; }

}  // namespace kiln::mixed_precision
