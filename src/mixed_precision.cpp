#include "kiln/mixed_precision.hpp"

#include <mutex>
#include <optional>

#include "kernels/cpu/gemm.hpp"
#include "kiln/error.hpp"

namespace kiln::mixed_precision {

namespace {
// The policy of threads that have not set one, and each thread's own.
std::mutex policy_mutex;
std::string process_policy = "float32";

std::optional<std::string>& thread_policy() {
  thread_local std::optional<std::string> policy;
  return policy;
}
}  // namespace

const std::string& check_policy(const std::string& name) {
  if (name != "float32" && name != "mixed_bfloat16")
    throw ValueError("unknown dtype policy '" + name +
                     "'; kiln knows \"float32\" and \"mixed_bfloat16\"");
  return name;
}

void set_global_policy(const std::string& name) {
  check_policy(name);
  {
    std::lock_guard lock(policy_mutex);
    process_policy = name;
  }
  thread_policy() = name;
}

std::string global_policy() {
  if (const auto& own = thread_policy()) return *own;
  std::lock_guard lock(policy_mutex);
  return process_policy;
}

bool has_native_bfloat16() { return cpu::best_isa() == cpu::Isa::kAvx512Bf16; }

}  // namespace kiln::mixed_precision
