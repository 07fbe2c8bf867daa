// Monitor: the "which log value, which way is better, by how much" rule that EarlyStopping,
// ModelCheckpoint and ReduceLROnPlateau share (Keras's MonitorCallback).
#include <cmath>
#include <limits>

#include "kiln/error.hpp"
#include "kiln/training_callbacks.hpp"

namespace kiln {

Monitor::Monitor(std::string owner, std::string monitor, const std::string& mode, double min_delta)
    : owner_(std::move(owner)), monitor_(std::move(monitor)), min_delta_(std::abs(min_delta)) {
  if (mode == "min") {
    maximize_ = false;
  } else if (mode == "max") {
    maximize_ = true;
  } else if (mode == "auto") {
    // Accuracies and areas under a curve grow as the model gets better; losses shrink.
    maximize_ =
        monitor_.find("acc") != std::string::npos || monitor_.find("auc") != std::string::npos;
  } else {
    throw ValueError(owner_ + ": mode must be \"auto\", \"min\" or \"max\", received \"" + mode +
                     "\"");
  }
  if (!(min_delta_ < std::numeric_limits<double>::infinity()))
    throw ValueError(owner_ + ": min_delta must be a finite number, received " +
                     std::to_string(min_delta));
}

double Monitor::value(const Logs& logs) const {
  if (logs.contains(monitor_)) return logs.at(monitor_);
  std::string names;
  bool has_val = false;
  for (const auto& [key, v] : logs.items()) {
    names += (names.empty() ? "" : ", ") + key;
    has_val |= key.starts_with("val_");
  }
  std::string hint;
  if (monitor_.starts_with("val_") && !has_val)
    hint =
        " (val_ values exist at the end of an epoch of a fit with validation_data or "
        "validation_split)";
  throw ValueError(
      owner_ + ": monitor='" + monitor_ + "' is not available in the logs, which have: " +
      (names.empty() ? std::string("nothing") : names) + hint + "; pass one of these as monitor");
}

bool Monitor::is_improvement(double current, std::optional<double> reference) const {
  if (!reference) return true;
  return maximize_ ? current - min_delta_ > *reference : current + min_delta_ < *reference;
}

double Monitor::worst() const {
  return maximize_ ? -std::numeric_limits<double>::infinity()
                   : std::numeric_limits<double>::infinity();
}

}  // namespace kiln
