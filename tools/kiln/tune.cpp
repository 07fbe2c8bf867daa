// kiln tune SPACE.json: a hyper-parameter search over kiln train's runs, after Keras Tuner
// (RandomSearch or Hyperband). Each trial trains the space's recipe with the trial's values; the
// results go to DIR/PROJECT (results.csv, trial_NNNN/, search.png, the best model in best/).
#include <filesystem>

#include "commands.hpp"
#include "common.hpp"
#include "tune_space.hpp"

namespace kiln::cli {

namespace {

struct TuneArgs {
  std::string space_file, directory = "tuning";
  std::optional<std::string> project;
  std::optional<int64_t> validation_size;
  bool resume = false, overwrite = false;
  int threads = 0, verbose = 0;
};

void run(const TuneArgs& a) {
  TuneSpace space = read_tune_space(a.space_file);
  TrainRecipe& base = space.recipe;
  if (a.validation_size) base.validation_size = *a.validation_size;
  const std::string project =
      a.project.value_or(std::filesystem::path(a.space_file).stem().string());
  const std::filesystem::path folder = std::filesystem::path(a.directory) / project;
  if (std::filesystem::exists(folder) && !a.resume && !a.overwrite)
    throw ValueError(
        "the search folder '" + folder.string() +
        "' exists: pass --resume to continue its search or --overwrite to start a new one");
  if (a.threads > 0) set_num_threads(a.threads);

  datasets::Dataset data = load_dataset(base);
  const int64_t n = data.train.images.dim(0);
  if (base.validation_size <= 0 || base.validation_size >= n)
    throw ValueError("--validation-size must be in [1, " + std::to_string(n) +
                     ") for a search scored on validation data, "
                     "received " +
                     std::to_string(base.validation_size));
  const ByteTensor x_valid = data.train.images.slice(0, base.validation_size);
  const ByteTensor y_valid = data.train.labels.slice(0, base.validation_size);
  const ByteTensor x_train = data.train.images.slice(base.validation_size, n);
  const ByteTensor y_train = data.train.labels.slice(base.validation_size, n);
  const Shape input(data.train.images.shape().begin() + 1, data.train.images.shape().end());
  const auto classes = static_cast<int64_t>(data.class_names.size());

  auto build = [&](tuner::HyperParameters& hp) {
    TrainRecipe r = trial_recipe(base, hp);
    Model model = build_model(r, input, classes, data.name);
    model.class_names = data.class_names;
    model.preprocessing.rescale = 1.0 / 255.0;
    model.preprocessing.interpolation = r.interpolation;
    model.metadata["dataset"] = data.name;
    const int64_t steps_per_epoch = (x_train.dim(0) + r.batch_size - 1) / r.batch_size;
    model.compile({.loss = LossRef(losses::get(r.loss)),
                   .optimizer = build_optimizer(r, steps_per_epoch),
                   .metrics = r.metrics});
    return model;
  };
  // With a moving average, validation measures the averaged weights, as in kiln train.
  SwapEMAWeights swap_ema;
  tuner::TunerOptions options{.objective = space.objective,
                              .max_trials = space.max_trials,
                              .seed = space.seed,
                              .directory = a.directory,
                              .project_name = project,
                              .overwrite = a.overwrite,
                              .fit =
                                  [&](tuner::HyperParameters& hp, FitOptions& fit) {
                                    const TrainRecipe r = trial_recipe(base, hp);
                                    fit.epochs = r.epochs;
                                    fit.batch_size = r.batch_size;
                                    const auto& config = r.optimizer["config"];
                                    if (config.contains("use_ema") && config["use_ema"] == true)
                                      fit.callbacks = {&swap_ema};
                                  },
                              .hyperparameters = space.hyperparameters};
  std::unique_ptr<tuner::Tuner> search;
  if (space.tuner == "hyperband")
    search = std::make_unique<tuner::Hyperband>(
        build, tuner::HyperbandOptions{space.max_epochs, space.factor, space.hyperband_iterations},
        options);
  else
    search = std::make_unique<tuner::RandomSearch>(build, options);
  std::cout << (a.resume && std::filesystem::exists(folder) ? "Resuming" : "Starting") << " a "
            << space.tuner << " search in " << folder.string() << ", " << space.objective << " on "
            << x_valid.dim(0) << " validation images\n";
  search->search(Inputs(x_train), Labels(y_train),
                 {.validation_data = ValidationData(Inputs(x_valid), Labels(y_valid)),
                  .verbose = a.verbose,
                  .seed = base.seed});
  std::cout << '\n';
  search->results_summary(std::cout, 3);
  std::cout << "\nResults: " << (folder / "results.csv").string()
            << "\nBest model: " << (folder / "best").string()
            << "\nPicture: " << (folder / "search.png").string() << '\n';
}

}  // namespace

void add_tune(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "tune",
      "Search hyperparameters of a training recipe (Keras Tuner's RandomSearch or "
      "Hyperband)");
  auto a = std::make_shared<TuneArgs>();
  cmd->add_option("space", a->space_file,
                  "SPACE.json: {\"recipe\": {...} or \"recipe_file\": PATH, \"tuner\": "
                  "\"random\"|\"hyperband\", "
                  "\"objective\", \"max_trials\" | \"max_epochs\", \"factor\", \"seed\", "
                  "\"hyperparameters\": {NAME: "
                  "{\"type\": \"int\"|\"float\"|\"choice\"|\"boolean\"|\"fixed\", ...}}}")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--directory", a->directory, "Where the search's folder goes")
      ->capture_default_str();
  cmd->add_option("--project", a->project,
                  "The search's folder name (default: SPACE's file name without .json)");
  auto* resume = cmd->add_flag("--resume", a->resume,
                               "Continue the search in an existing folder after its completed "
                               "trials (the same trials are proposed for the same SPACE)");
  cmd->add_flag("--overwrite", a->overwrite, "Remove an existing search folder and start again")
      ->excludes(resume);
  cmd->add_option("--validation-size", a->validation_size,
                  "Training images held out for validation, on which trials are scored (default: "
                  "the recipe's)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--threads", a->threads, "Worker threads (default: all cores)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--verbose", a->verbose,
                  "Each trial's fit: 0 silent, 1 progress bar, 2 one line per epoch")
      ->check(CLI::Range(0, 2))
      ->capture_default_str();
  cmd->callback([a] { run(*a); });
}

}  // namespace kiln::cli
