// Shared by kiln's benchmark programs: the seed model, the data, timing, and the one-line JSON
// result format that bench/report.py reads ({"workload": ..., "seconds": [...]}).
#pragma once

#include <chrono>
#include <cstdio>
#include <kiln/kiln.hpp>
#include <string>
#include <vector>

namespace kiln::bench {

inline Sequential seed_model() {
  return Sequential({layers::Flatten({28, 28}), layers::Dense(300, "relu"), layers::Dense(100, "relu"),
                     layers::Dense(10, "softmax")});
}

// Seconds taken by fn().
template <typename Fn>
double time_it(Fn&& fn) {
  auto t = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

inline void report(const std::string& workload, const std::vector<double>& seconds, const std::string& extra = "") {
  std::printf("{\"workload\": \"%s\", \"seconds\": [", workload.c_str());
  for (size_t i = 0; i < seconds.size(); ++i) std::printf("%s%.9g", i ? ", " : "", seconds[i]);
  std::printf("]%s}\n", extra.c_str());
  std::fflush(stdout);
}

// Repeats and threads from the command line: PROGRAM [repeats] [threads].
struct Args {
  int repeats = 5;
  int threads = 0;
  Args(int argc, char** argv) {
    if (argc > 1) repeats = std::atoi(argv[1]);
    if (argc > 2) threads = std::atoi(argv[2]);
    if (threads > 0) set_num_threads(threads);
  }
};

}  // namespace kiln::bench
