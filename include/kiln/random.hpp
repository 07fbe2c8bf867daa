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

// Random numbers by position: the i-th value of a stream is a function of the stream's key and
// i alone (splitmix64's output for that key and step), so a layer can draw a mask in any order,
// on any number of threads, and get the same numbers. Streams for different purposes come from
// fork() with distinct salts.
class RandomStream {
 public:
  explicit RandomStream(uint64_t key) : key_(key) {}
  RandomStream fork(uint64_t salt) const { return RandomStream(mix(key_ ^ mix(salt + kGolden))); }
  uint64_t key() const { return key_; }
  // 64 random bits at position i.
  uint64_t bits(uint64_t i) const { return mix(key_ + (i + 1) * kGolden); }
  // Uniform in [0, 1) with 24 random bits (every float in it is exactly representable).
  float uniform(uint64_t i) const { return static_cast<float>(bits(i) >> 40) * 0x1.0p-24f; }

 private:
  static constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ull;
  static uint64_t mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t key_;
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
