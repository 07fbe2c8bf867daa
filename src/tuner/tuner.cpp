// The tuner's engine, shared by every search: the project folder (resume or overwrite), each
// trial's build, fit, score and record, and the best trials.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "kiln/error.hpp"
#include "kiln/io.hpp"
#include "kiln/plot.hpp"
#include "kiln/random.hpp"
#include "tuner/records.hpp"

namespace kiln::tuner {

namespace {

// Keras Tuner's infer_metric_direction, for the names kiln's fit logs.
bool infer_maximize(const std::string& objective) {
  std::string name = objective;
  if (name.starts_with("val_")) name = name.substr(4);
  if (name.starts_with("weighted_")) name = name.substr(9);
  if (name == "loss" || name.ends_with("crossentropy") || name.ends_with("error") || name == "ce")
    return false;
  if (name == "acc" || name.ends_with("accuracy") || name == "auc" || name == "precision" ||
      name == "recall")
    return true;
  throw ConfigError("cannot tell whether to maximize or minimize the objective '" + objective +
                    "'; expected a loss (minimized) or an accuracy (maximized), such as val_loss "
                    "or val_accuracy");
}

// Rethrows the trial's error as its own kind, with the trial and its hyperparameters named.
[[noreturn]] void rethrow_in_trial(const Trial& t) {
  const std::string where = "trial " + std::to_string(t.id) + " (" + t.values.dump() + "): ";
  try {
    throw;
  } catch (const ShapeError& e) {
    throw ShapeError(where + e.what());
  } catch (const ValueError& e) {
    throw ValueError(where + e.what());
  } catch (const IoError& e) {
    throw IoError(where + e.what());
  } catch (const ConfigError& e) {
    throw ConfigError(where + e.what());
  } catch (const Error& e) {
    throw Error(where + e.what());
  }
}

// search.png: the objective by trial and by the first hyperparameter.
void plot_search(const std::filesystem::path& path, const HyperParameter& hp,
                 const std::vector<Trial>& trials, const std::string& objective, bool maximize) {
  plot::SearchPlotData d{.objective = objective,
                         .parameter = hp.name,
                         .log_scale = hp.sampling == "log",
                         .maximize = maximize};
  if (hp.type == "choice" || hp.type == "boolean" || hp.type == "fixed")
    d.categories = hp.type == "boolean" ? std::vector<std::string>{"false", "true"}
                                        : std::vector<std::string>{};
  if (hp.type == "choice" || hp.type == "fixed")
    for (const auto& v : hp.values)
      d.categories.push_back(v.is_string() ? v.get<std::string>() : v.dump());
  for (const auto& t : trials) {
    d.trial.push_back(t.id);
    d.score.push_back(t.score.value_or(NAN));
    const auto v = t.values.value(hp.name, nlohmann::ordered_json());
    double x = NAN;
    if (v.is_number()) x = v.get<double>();
    if (v.is_boolean()) x = v.get<bool>();
    for (size_t i = 0; i < d.categories.size() && !v.is_boolean(); ++i)
      if (hp.values[i].dump() == v.dump()) x = static_cast<double>(i);
    d.value.push_back(x);
  }
  plot::search_results(d, path);
}

std::string fit_cell(std::string s, size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}

}  // namespace

Tuner::Tuner(BuildFn build, TunerOptions options)
    : build_(std::move(build)),
      options_(std::move(options)),
      maximize_(infer_maximize(options_.objective)) {
  if (!build_)
    throw ValueError("a tuner needs a build function (HyperParameters& -> Model), received none");
  if (options_.project_name.empty())
    throw ValueError("a tuner needs a project_name, received an empty one");
  seed_ = options_.seed ? *options_.seed : std::random_device{}();
}

void Tuner::prepare_directory() {
  const auto project = project_dir();
  std::error_code ec;
  if (options_.overwrite) std::filesystem::remove_all(project, ec);
  if (ec)
    throw IoError("cannot remove the project folder '" + project.string() + "': " + ec.message());
  std::filesystem::create_directories(project, ec);
  if (ec)
    throw IoError("cannot create the project folder '" + project.string() + "': " + ec.message());
  recalled_ = detail::read_trials(project);
}

void Tuner::search(const Inputs& x, const Labels& y, const FitOptions& fit) {
  prepare_directory();
  if (options_.hyperparameters) {
    space_ = options_.hyperparameters->space();
  } else {  // A first build declares the space, as Keras Tuner's does.
    HyperParameters hp;
    Model model = build_(hp);
    space_ = hp.space();
  }
  trials_.clear();
  best_.reset();
  seed_state_ = 0;
  x_ = &x, y_ = &y, fit_ = &fit;
  if (options_.out) {
    std::string header = fit_cell("trial", 6);
    for (const auto& hp : space_)
      header += "  " + fit_cell(hp.name, std::max<size_t>(hp.name.size(), 10));
    header += "  " + fit_cell(options_.objective, 12) + "  " + fit_cell("best", 10) + "  " +
              fit_cell("epochs", 6) + "  " + fit_cell("seconds", 8);
    *options_.out << header << '\n';
  }
  run_search();
  x_ = nullptr, y_ = nullptr, fit_ = nullptr;
}

std::optional<nlohmann::ordered_json> Tuner::random_values() {
  const HyperParameters hp(space_, nlohmann::ordered_json::object());
  for (int collisions = 0; collisions <= 20; ++collisions) {
    auto values = hp.random_values(seed_ + seed_state_++);
    bool tried = false;
    for (const auto& t : trials_) tried = tried || t.values == values;
    if (!tried) return values;
  }
  return std::nullopt;
}

const Trial& Tuner::execute(Trial trial) {
  trial.id = static_cast<int>(trials_.size()) + 1;
  const auto earlier =
      std::ranges::find_if(recalled_, [&](const Trial& t) { return t.id == trial.id; });
  if (earlier != recalled_.end()) {
    if (earlier->values != trial.values || earlier->parent != trial.parent ||
        (trial.epochs && earlier->epochs != trial.epochs))
      throw ConfigError(
          project_dir().string() + ": trial " + std::to_string(trial.id) + " on disk has " +
          earlier->values.dump() + " for " + std::to_string(earlier->epochs) +
          " epochs, this search proposes " + trial.values.dump() + " for " +
          std::to_string(trial.epochs) +
          "; the folder holds another search (another seed or space): overwrite it or use another");
    trial = *earlier;
  } else {
    run_trial(trial);
  }
  trials_.push_back(trial);
  record(trials_.back(), earlier != recalled_.end());
  return trials_.back();
}

void Tuner::run_trial(Trial& trial) {
  const auto start = std::chrono::steady_clock::now();
  HyperParameters hp(space_, trial.values);
  FitOptions fit = *fit_;
  try {
    // The trial's weights and shuffling, the same when a resumed search reruns it.
    utils::set_random_seed(seed_ + 1000003 * static_cast<uint64_t>(trial.id));
    if (options_.fit) options_.fit(hp, fit);
    if (trial.epochs == 0) trial.epochs = fit.epochs;
    fit.epochs = trial.epochs - trial.initial_epoch;
    Model model = build_(hp);
    const auto dir = detail::trial_dir(project_dir(), trial.id);
    std::filesystem::create_directories(dir);
    if (trial.parent)
      model.load_weights(detail::trial_dir(project_dir(), trial.parent) / "checkpoint.safetensors");
    const History history = model.fit(*x_, *y_, fit);
    const auto column = history.history.find(options_.objective);
    if (column == history.history.end()) {
      std::string logged;
      for (const auto& [name, _] : history.history) logged += (logged.empty() ? "" : ", ") + name;
      throw ValueError("the objective '" + options_.objective + "' is not in the fit logs (" +
                       logged + "); a val_ objective needs validation data");
    }
    for (double v : column->second)
      if (std::isfinite(v) && (!trial.score || (maximize_ ? v > *trial.score : v < *trial.score)))
        trial.score = v;
    model.save_weights(dir / "checkpoint.safetensors");
    if (trial.score && (!best_ || (maximize_ ? *trial.score > *best_ : *trial.score < *best_)))
      model.save(project_dir() / "best");
  } catch (const Error&) {
    rethrow_in_trial(trial);
  }
#if defined(__GLIBC__)
  // The model's arenas are freed; glibc keeps freed heap pages (its mmap threshold rises after
  // the first large free), so without this resident memory would creep up trial after trial.
  malloc_trim(0);
#endif
  trial.status = "COMPLETED";
  trial.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  detail::write_trial(project_dir(), trial);
}

void Tuner::record(const Trial& trial, bool recalled) {
  if (trial.score && (!best_ || (maximize_ ? *trial.score > *best_ : *trial.score < *best_)))
    best_ = trial.score;
  detail::write_results_csv(project_dir(), space_, trials_);
  if (options_.out) {
    char tail[128];
    std::snprintf(tail, sizeof tail, "  %12.4f  %10.4f  %6d  %8.1f", trial.score.value_or(NAN),
                  best_.value_or(NAN), trial.epochs, trial.seconds);
    std::string line = fit_cell(std::to_string(trial.id), 6);
    for (const auto& hp : space_)
      line += "  " +
              fit_cell(detail::format_value(trial.values.value(hp.name, nlohmann::ordered_json())),
                       std::max<size_t>(hp.name.size(), 10));
    *options_.out << line << tail << (recalled ? "  (earlier run)\n" : "\n") << std::flush;
  }
  if (options_.plot && !space_.empty())
    plot_search(project_dir() / "search.png", space_.front(), trials_, options_.objective,
                maximize_);
  if (options_.on_trial_end) options_.on_trial_end(trial);
}

std::vector<const Trial*> Tuner::ranked(const std::vector<const Trial*>& trials) const {
  std::vector<const Trial*> out;
  for (const auto* t : trials)
    if (t->status == "COMPLETED") out.push_back(t);
  std::ranges::stable_sort(out, [&](const Trial* a, const Trial* b) {
    if (!a->score || !b->score) return a->score.has_value() && !b->score;
    return maximize_ ? *a->score > *b->score : *a->score < *b->score;
  });
  return out;
}

std::vector<HyperParameters> Tuner::get_best_hyperparameters(int n) const {
  std::vector<const Trial*> all;
  for (const auto& t : trials_) all.push_back(&t);
  std::vector<HyperParameters> out;
  for (const auto* t : ranked(all))
    if (static_cast<int>(out.size()) < n) out.emplace_back(space_, t->values);
  return out;
}

std::vector<Model> Tuner::get_best_models(int n) {
  std::vector<const Trial*> all;
  for (const auto& t : trials_) all.push_back(&t);
  std::vector<Model> out;
  for (const auto* t : ranked(all)) {
    if (static_cast<int>(out.size()) >= n) break;
    HyperParameters hp(space_, t->values);
    out.push_back(build_(hp));
    out.back().load_weights(detail::trial_dir(project_dir(), t->id) / "checkpoint.safetensors");
  }
  return out;
}

void Tuner::results_summary(std::ostream& out, int num_trials) const {
  out << "Results summary\nResults in " << project_dir().string() << "\nShowing " << num_trials
      << " best trials\nObjective(name=\"" << options_.objective << "\", direction=\""
      << (maximize_ ? "max" : "min") << "\")\n";
  std::vector<const Trial*> all;
  for (const auto& t : trials_) all.push_back(&t);
  int shown = 0;
  for (const auto* t : ranked(all)) {
    if (shown++ >= num_trials) break;
    out << "\nTrial " << t->id << " summary\nHyperparameters:\n";
    for (const auto& [name, value] : t->values.items())
      out << name << ": " << detail::format_value(value) << '\n';
    out << "Score: "
        << detail::format_value(t->score ? nlohmann::json(*t->score) : nlohmann::json()) << '\n';
  }
}

}  // namespace kiln::tuner
