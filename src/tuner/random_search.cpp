// RandomSearch: up to max_trials points drawn at random, each not tried before (Keras Tuner's
// RandomSearchOracle); the search ends early when 20 draws in a row find only tried points.
#include "kiln/error.hpp"
#include "kiln/tuner.hpp"

namespace kiln::tuner {

void RandomSearch::run_search() {
  if (options().max_trials < 1)
    throw ValueError("RandomSearch: max_trials must be at least 1, received " +
                     std::to_string(options().max_trials));
  for (int i = 0; i < options().max_trials; ++i) {
    auto values = random_values();
    if (!values) return;
    execute({.values = std::move(*values)});
  }
}

}  // namespace kiln::tuner
