// What the losses share: their serialized form (Keras's) and how the kernels see a batch's
// targets.
#pragma once

#include <string>

#include "kernels/cpu/losses.hpp"
#include "kiln/losses.hpp"

namespace kiln::losses {

// Keras's only reduction kiln implements, and its default: the weighted sum over the batch
// divided by the batch size.
constexpr const char* kReduction = "sum_over_batch_size";

// {"module": "keras.losses", "class_name": ..., "config": {"name", "reduction", fields...},
// "registered_name": null}, as keras.losses.serialize writes a loss.
nlohmann::json serialized(const char* class_name, const std::string& name, nlohmann::json fields);

// The targets as the kernels read them; integer labels are values (one output value) or
// class indices (one-hot rows).
inline cpu::TargetRows rows_of(const Targets& y, bool labels_are_values) {
  return {y.values, y.labels, labels_are_values};
}

// ValueError unless 0 <= smoothing <= 1.
void check_label_smoothing(double smoothing, const char* loss);

}  // namespace kiln::losses
