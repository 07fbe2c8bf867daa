// Hyperband (Keras Tuner's HyperbandOracle): brackets from the most exploratory down to 0, each
// a successive halving whose rounds keep the best 1/factor of the trials for factor times the
// epochs. The arithmetic (num_brackets, size, epochs) is Keras Tuner's, float for float.
#include <cmath>

#include "kiln/error.hpp"
#include "kiln/tuner.hpp"

namespace kiln::tuner {

Hyperband::Hyperband(BuildFn build, HyperbandOptions hyperband, TunerOptions options)
    : Tuner(std::move(build), std::move(options)), hyperband_(hyperband) {
  if (hyperband_.factor < 2)
    throw ValueError("Hyperband: factor must be an integer of at least 2, received " +
                     std::to_string(hyperband_.factor));
  if (hyperband_.max_epochs < 1)
    throw ValueError("Hyperband: max_epochs must be at least 1, received " +
                     std::to_string(hyperband_.max_epochs));
  if (hyperband_.hyperband_iterations < 1)
    throw ValueError("Hyperband: hyperband_iterations must be at least 1, received " +
                     std::to_string(hyperband_.hyperband_iterations));
}

int Hyperband::num_brackets() const {
  double epochs = hyperband_.max_epochs;
  int brackets = 0;
  while (epochs >= 1) epochs /= hyperband_.factor, ++brackets;
  return brackets;
}

int Hyperband::size(int bracket, int round) const {
  const double end0 = std::ceil(1 + std::log(hyperband_.max_epochs) / std::log(hyperband_.factor));
  return static_cast<int>(
      std::ceil(end0 / (bracket + 1) * std::pow(hyperband_.factor, bracket - round)));
}

int Hyperband::epochs(int bracket, int round) const {
  return static_cast<int>(
      std::ceil(hyperband_.max_epochs / std::pow(hyperband_.factor, bracket - round)));
}

void Hyperband::run_search() {
  for (int iteration = 0; iteration < hyperband_.hyperband_iterations; ++iteration)
    for (int bracket = num_brackets() - 1; bracket >= 0; --bracket) {
      std::vector<Trial> previous;
      for (int round = 0; round <= bracket; ++round) {
        std::vector<Trial> current;
        if (round == 0) {
          for (int i = 0; i < size(bracket, 0); ++i) {
            auto values = random_values();
            if (!values) return;
            current.push_back(execute({.values = std::move(*values),
                                       .epochs = epochs(bracket, 0),
                                       .bracket = bracket,
                                       .round = 0}));
          }
        } else {
          std::vector<const Trial*> candidates;
          for (const auto& t : previous) candidates.push_back(&t);
          std::vector<Trial> promoted;
          for (const auto* t : ranked(candidates))
            if (static_cast<int>(promoted.size()) < size(bracket, round)) promoted.push_back(*t);
          for (const auto& parent : promoted)
            current.push_back(execute({.values = parent.values,
                                       .epochs = epochs(bracket, round),
                                       .initial_epoch = epochs(bracket, round - 1),
                                       .parent = parent.id,
                                       .bracket = bracket,
                                       .round = round}));
        }
        previous = std::move(current);
      }
    }
}

}  // namespace kiln::tuner
