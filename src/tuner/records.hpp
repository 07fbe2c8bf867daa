// A search on disk: each trial as trial_NNNN/trial.json, and results.csv with one row a trial
// (trial, each hyperparameter, score, epochs, seconds), both rewritten whole as trials end.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "kiln/tuner.hpp"

namespace kiln::tuner::detail {

std::filesystem::path trial_dir(const std::filesystem::path& project, int id);
void write_trial(const std::filesystem::path& project, const Trial& trial);
// The completed trials recorded in `project`, by id; ConfigError naming a file it cannot read.
std::vector<Trial> read_trials(const std::filesystem::path& project);
void write_results_csv(const std::filesystem::path& project,
                       const std::vector<HyperParameter>& space, const std::vector<Trial>& trials);
// A value as the table and the CSV show it: numbers in 4 significant digits, strings as they are.
std::string format_value(const nlohmann::json& value);

}  // namespace kiln::tuner::detail
