#include "kiln/random.hpp"

#include <cmath>
#include <mutex>
#include <numbers>
#include <optional>

namespace kiln {

double Rng::normal() {
  double u1 = 1.0 - uniform();  // (0, 1]
  double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

namespace utils {

namespace {
// The seed a thread's generator starts from when the thread has not set one itself.
std::mutex seed_mutex;
std::optional<uint64_t> process_seed;

std::optional<Rng>& thread_rng() {
  thread_local std::optional<Rng> rng;
  return rng;
}
}  // namespace

Rng& global_rng() {
  auto& rng = thread_rng();
  if (!rng) {
    std::optional<uint64_t> seed;
    {
      std::lock_guard lock(seed_mutex);
      seed = process_seed;
    }
    rng.emplace(seed ? *seed : std::random_device{}());
  }
  return *rng;
}

void set_random_seed(uint64_t seed) {
  {
    std::lock_guard lock(seed_mutex);
    process_seed = seed;
  }
  thread_rng().emplace(seed);
}

}  // namespace utils
}  // namespace kiln
