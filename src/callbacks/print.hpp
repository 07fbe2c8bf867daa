// Where callbacks print their messages: the run's stream (Params::out). A message from a batch
// hook first ends the progress bar a terminal is redrawing in place, as Keras's leading "\n" does.
#pragma once

#include <cmath>
#include <cstdio>
#include <string>

#include "kiln/callbacks.hpp"

namespace kiln::detail {

inline std::ostream& message(const Callback::Params& params, bool from_batch_hook) {
  std::ostream& out = *params.out;
  if (from_batch_hook && params.verbose == 1 && params.out == &std::cout && stdout_is_terminal())
    out << '\n';
  return out;
}

// Python's f"{value:.5f}" ("inf", "-inf", "nan" included).
inline std::string fixed5(double value) {
  if (std::isnan(value)) return "nan";
  char buf[400];
  std::snprintf(buf, sizeof buf, "%.5f", value);
  return buf;
}

// Python's str(value) for a float ("0.001", "1e-05", "nan", "inf").
inline std::string python_float(double value) { return format_number(value); }

}  // namespace kiln::detail
