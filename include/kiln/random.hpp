// Seeded random numbers whose streams are the same on every platform and compiler
// (std::uniform_real_distribution and std::shuffle are not).
#pragma once

#include <cstdint>
#include <random>
#include <span>

namespace kiln {

class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  uint64_t next() { return engine_(); }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Standard normal (Box-Muller).
  double normal();
  // Uniform integer in [0, n).
  uint64_t below(uint64_t n) { return next() % n; }
  // Fisher-Yates shuffle.
  template <typename T>
  void shuffle(std::span<T> values) {
    for (size_t i = values.size(); i > 1; --i) std::swap(values[i - 1], values[below(i)]);
  }

 private:
  std::mt19937_64 engine_;
};

namespace utils {
// The generator that initializes weights and shuffles data when no seed is given. Each thread
// has its own, so threads that build and train their own models never race or draw from each
// other's stream. set_random_seed(n), as keras.utils.set_random_seed does, seeds the calling
// thread's generator with n, and makes n the seed of every thread's generator that has not been
// used yet; a thread that is never seeded either way starts from std::random_device.
void set_random_seed(uint64_t seed);
Rng& global_rng();
}  // namespace utils

}  // namespace kiln
