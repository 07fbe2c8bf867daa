#include "kiln/random.hpp"

#include <cmath>
#include <numbers>

namespace kiln {

double Rng::normal() {
  double u1 = 1.0 - uniform();  // (0, 1]
  double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

namespace utils {

Rng& global_rng() {
  static Rng rng{std::random_device{}()};
  return rng;
}

void set_random_seed(uint64_t seed) { global_rng() = Rng(seed); }

}  // namespace utils
}  // namespace kiln
