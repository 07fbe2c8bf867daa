// The whole state of a fit in progress (weights, optimizer state, next epoch, seed, random
// streams' position, history), as BackupAndRestore keeps it and as a distributed fit hands it
// from the chief to the other processes.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "kiln/callbacks.hpp"
#include "kiln/tensor.hpp"

namespace kiln {
class Model;
}

namespace kiln::detail {

struct TrainingState {
  std::map<std::string, Tensor> tensors;  // weights by name, optimizer slots under "optimizer/"
  nlohmann::json state;                   // {"format", "epoch", "seed", "random_step", "optimizer", "history"}
};

TrainingState capture_training_state(const Model& model, const FitState& fit);
// Restores it into a model of the same architecture and optimizer; IoError naming `tensors_source`
// (for the tensors) or `state_source` (for the state) when something does not match.
void restore_training_state(Model& model, FitState& fit, const std::map<std::string, Tensor>& tensors,
                            const nlohmann::json& state, const std::string& tensors_source,
                            const std::string& state_source);

}  // namespace kiln::detail
