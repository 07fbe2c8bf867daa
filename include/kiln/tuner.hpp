// Hyper-parameter search after Keras Tuner: a search space declared by the build function
// (hp.Int, hp.Float, hp.Choice, hp.Boolean, hp.Fixed), RandomSearch and Hyperband, every trial
// recorded on disk as it ends so that an interrupted search resumes where it stopped.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "kiln/model.hpp"
#include "kiln/trainer.hpp"

namespace kiln::tuner {

// One dimension of the space, as Keras Tuner's Int / Float / Choice / Boolean / Fixed describe it.
struct HyperParameter {
  std::string name;
  std::string type;  // "int", "float", "choice", "boolean" or "fixed"
  double min_value = 0, max_value = 0;
  double step = 0;                  // int: 1 or more; float: 0 for a continuous range
  std::string sampling = "linear";  // or "log" (with a step above 1: multiplied by step)
  nlohmann::json values;            // choice: the candidates; fixed: [the value]
  // The value at cumulative probability prob in [0, 1) (Keras Tuner's prob_to_value).
  nlohmann::json value_at(double prob) const;
  // The value a first build sees: min_value, the first choice, false, the fixed value.
  nlohmann::json default_value() const;
};

// The space and one point in it. A build function asks for each hyperparameter by name: the
// first call declares it (and returns its default), later calls get the value of the trial.
class HyperParameters {
 public:
  HyperParameters() = default;
  // A point in `space`: `values` maps names to values.
  HyperParameters(std::vector<HyperParameter> space, nlohmann::ordered_json values);

  int64_t Int(const std::string& name, int64_t min_value, int64_t max_value, int64_t step = 1,
              const std::string& sampling = "linear");
  double Float(const std::string& name, double min_value, double max_value, double step = 0,
               const std::string& sampling = "linear");
  nlohmann::json Choice(const std::string& name, const nlohmann::json& values);
  bool Boolean(const std::string& name);
  nlohmann::json Fixed(const std::string& name, const nlohmann::json& value);

  const std::vector<HyperParameter>& space() const { return space_; }
  const nlohmann::ordered_json& values() const { return values_; }
  // The value of `name`; ValueError naming the known ones otherwise.
  nlohmann::json get(const std::string& name) const;
  // A point drawn uniformly (in each dimension's sampling) from seed (Keras Tuner's random_sample).
  nlohmann::ordered_json random_values(uint64_t seed) const;

 private:
  nlohmann::json declare(HyperParameter hp);

  std::vector<HyperParameter> space_;
  nlohmann::ordered_json values_ = nlohmann::ordered_json::object();
};

// What a trial was and how it went (trial_NNNN/trial.json).
struct Trial {
  int id = 0;  // from 1
  nlohmann::ordered_json values;
  std::string status = "RUNNING";  // then "COMPLETED"
  std::optional<double> score;     // the objective's best epoch
  int epochs = 0;                  // the epoch the model has reached at the end
  int initial_epoch = 0;           // Hyperband: epochs already run by the parent trial
  int parent = 0;                  // Hyperband: the trial whose weights it continues (0: none)
  int bracket = -1, round = -1;    // Hyperband's bracket and round
  double seconds = 0;
};

using BuildFn = std::function<Model(HyperParameters&)>;

struct TunerOptions {
  // A name in the fit logs; maximized for accuracy-like names, minimized for losses (as Keras
  // Tuner infers it); ConfigError for a name it cannot tell.
  std::string objective = "val_accuracy";
  int max_trials = 10;           // RandomSearch; Hyperband runs its brackets (as Keras Tuner)
  std::optional<uint64_t> seed;  // unset: drawn at random
  std::filesystem::path directory = ".";
  std::string project_name = "untitled_project";
  // true: an existing project folder is removed; false: its completed trials are kept and the
  // search resumes after them.
  bool overwrite = false;
  // Called before each fit with the trial's hyperparameters (Keras Tuner's HyperModel.fit):
  // may set batch_size, epochs (RandomSearch; Hyperband sets its own), callbacks.
  std::function<void(HyperParameters&, FitOptions&)> fit;
  // Called as each trial is recorded (also for the trials a resumed search recalls).
  std::function<void(const Trial&)> on_trial_end;
  // The space declared in advance (Keras Tuner's hyperparameters argument); unset: a first
  // build with the defaults declares it, as Keras Tuner's does.
  std::optional<HyperParameters> hyperparameters;
  std::ostream* out = &std::cout;  // the results table; nullptr: silent
  bool plot = true;                // directory/project/search.png after each trial
};

class Tuner {
 public:
  Tuner(BuildFn build, TunerOptions options);
  virtual ~Tuner() = default;

  // Runs the trials; `fit` is each trial's (its epochs for RandomSearch). Each trial's model is
  // freed before the next; its weights go to trial_NNNN/checkpoint.safetensors, the best model
  // to directory/project/best. Each trial first seeds utils::set_random_seed from the seed and
  // its number, so its weights and shuffling repeat. Errors in a trial are rethrown (same kind)
  // with the trial and its values named.
  void search(const Inputs& x, const Labels& y, const FitOptions& fit);
  // The n best trials' models, rebuilt and given their trained weights; best first.
  std::vector<Model> get_best_models(int n = 1);
  std::vector<HyperParameters> get_best_hyperparameters(int n = 1) const;
  // Keras Tuner's summary: the best trials with their hyperparameters and scores.
  void results_summary(std::ostream& out, int num_trials = 10) const;
  const std::vector<Trial>& trials() const { return trials_; }
  std::filesystem::path project_dir() const { return options_.directory / options_.project_name; }
  bool maximize() const { return maximize_; }

 protected:
  // The search proper: proposes trials and hands each to execute.
  virtual void run_search() = 0;
  // A point not tried before (hashed without Hyperband's keys), or none after 20 collisions.
  std::optional<nlohmann::ordered_json> random_values();
  // Runs the trial (or recalls it when a resumed search completed it before); returns the record.
  const Trial& execute(Trial trial);
  // Completed trials sorted best first (ties: the earlier trial).
  std::vector<const Trial*> ranked(const std::vector<const Trial*>& trials) const;
  const TunerOptions& options() const { return options_; }

 private:
  void prepare_directory();
  void run_trial(Trial& trial);
  void record(const Trial& trial, bool recalled);

  BuildFn build_;
  TunerOptions options_;
  bool maximize_ = true;
  uint64_t seed_ = 0, seed_state_ = 0;
  std::vector<HyperParameter> space_;
  std::vector<Trial> trials_, recalled_;
  const Inputs* x_ = nullptr;
  const Labels* y_ = nullptr;
  const FitOptions* fit_ = nullptr;
  std::optional<double> best_;
};

// Keras Tuner's RandomSearch: max_trials points drawn at random, each trained for fit's epochs.
class RandomSearch : public Tuner {
 public:
  using Tuner::Tuner;

 protected:
  void run_search() override;
};

struct HyperbandOptions {
  int max_epochs = 100;
  int factor = 3;
  int hyperband_iterations = 1;
};

// Keras Tuner's Hyperband: brackets from the most exploratory (many trials, few epochs) to a
// few full-length trials, each a successive halving: the best 1/factor of a round continue
// from their weights to factor times the epochs. As in Keras Tuner a continued trial starts
// from its parent's weights only (a fresh optimizer), and its fit runs epochs - initial_epoch
// epochs numbered from 1 (kiln's fit has no initial_epoch).
class Hyperband : public Tuner {
 public:
  Hyperband(BuildFn build, HyperbandOptions hyperband, TunerOptions options);
  // Keras Tuner's arithmetic: brackets, each one's round sizes and epochs.
  int num_brackets() const;
  int size(int bracket, int round) const;
  int epochs(int bracket, int round) const;

 protected:
  void run_search() override;

 private:
  HyperbandOptions hyperband_;
};

}  // namespace kiln::tuner
