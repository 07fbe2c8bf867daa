// kiln::tuner: the space's sampling, RandomSearch and Hyperband on a tiny model and tiny data,
// the records on disk, resuming, the best model, Keras Tuner's Hyperband budget and flat memory.
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "helpers.hpp"

namespace kiln {
namespace {

using tuner::HyperParameters;
using tuner::Trial;

// 64 samples of 4 features in 3 classes (the class is the largest of the first 3 features).
struct TinyData {
  Tensor x = testing::random_tensor({64, 4}, 7);
  std::vector<int32_t> y;
  TinyData() {
    for (int64_t i = 0; i < 64; ++i) {
      const float* r = x.data() + i * 4;
      y.push_back(r[0] > r[1] && r[0] > r[2] ? 0 : r[1] > r[2] ? 1 : 2);
    }
  }
  FitOptions fit(int epochs = 1) const {
    return {.epochs = epochs,
            .batch_size = 16,
            .validation_data = ValidationData(Inputs(x), Labels(y)),
            .verbose = 0,
            .seed = 3};
  }
};

Model tiny_model(HyperParameters& hp) {
  const int64_t units = hp.Int("units", 2, 16, 2);
  const double rate = hp.Float("learning_rate", 1e-3, 1e-1, 0, "log");
  const std::string optimizer = hp.Choice("optimizer", {"sgd", "adam"});
  Sequential model({layers::Dense({.units = units, .activation = "relu", .input_shape = {4}}),
                    layers::Dense(3, "softmax")});
  model.compile({.optimizer = OptimizerRef(optimizers::get(
                     {{"class_name", optimizer}, {"config", {{"learning_rate", rate}}}})),
                 .metrics = {"accuracy"}});
  return model;
}

tuner::TunerOptions options(const testing::TempDir& dir, int max_trials, uint64_t seed = 1) {
  return {.max_trials = max_trials,
          .seed = seed,
          .directory = dir.path(),
          .project_name = "p",
          .out = nullptr,
          .plot = false};
}

std::vector<nlohmann::ordered_json> values_of(const std::vector<Trial>& trials) {
  std::vector<nlohmann::ordered_json> out;
  for (const auto& t : trials) out.push_back(t.values);
  return out;
}

std::string read(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(TunerSpace, SamplesWithinRangesStepsAndLogScale) {
  HyperParameters space;
  EXPECT_EQ(space.Int("units", 32, 128, 32), 32);  // the first build sees the defaults
  space.Int("filters", 8, 64, 2, "log");
  space.Float("rate", 1e-4, 1e-1, 0, "log");
  space.Float("dropout", 0.0, 0.5, 0.1);
  space.Choice("optimizer", {"sgd", "adam"});
  space.Boolean("bn");
  space.Fixed("seed", 5);
  std::map<std::string, std::set<std::string>> seen;
  int low_rates = 0;
  for (uint64_t s = 0; s < 400; ++s) {
    const auto v = space.random_values(s);
    const int64_t units = v["units"], filters = v["filters"];
    const double rate = v["rate"], dropout = v["dropout"];
    EXPECT_TRUE(units == 32 || units == 64 || units == 96 || units == 128) << units;
    EXPECT_TRUE(filters == 8 || filters == 16 || filters == 32 || filters == 64) << filters;
    EXPECT_TRUE(rate >= 1e-4 && rate <= 1e-1) << rate;
    EXPECT_NEAR(dropout * 10, std::round(dropout * 10), 1e-9);
    EXPECT_EQ(v["seed"], 5);
    low_rates += rate < 1e-2;  // log sampling: 2 of the 3 decades lie below 1e-2
    for (const auto& [name, value] : v.items()) seen[name].insert(value.dump());
  }
  EXPECT_EQ(seen["units"].size(), 4u);
  EXPECT_EQ(seen["filters"].size(), 4u);
  EXPECT_EQ(seen["dropout"].size(), 6u);
  EXPECT_EQ(seen["optimizer"].size(), 2u);
  EXPECT_EQ(seen["bn"].size(), 2u);
  EXPECT_NEAR(low_rates / 400.0, 2.0 / 3, 0.08);
  EXPECT_EQ(space.random_values(9), space.random_values(9));
  EXPECT_NE(space.random_values(9), space.random_values(10));
}

TEST(TunerSpace, RejectsBadRanges) {
  HyperParameters hp;
  EXPECT_THROW(hp.Int("a", 5, 1), ValueError);
  EXPECT_THROW(hp.Float("b", 0.0, 1.0, 0, "log"), ValueError);
  EXPECT_THROW(hp.Float("c", 0.0, 1.0, 0, "cubic"), ValueError);
  EXPECT_THROW(hp.Choice("d", nlohmann::json::array()), ValueError);
  EXPECT_THROW(hp.get("e"), ValueError);
  EXPECT_THROW(tuner::RandomSearch(tiny_model, {.objective = "val_mystery"}), ConfigError);
}

TEST(TunerRandomSearch, RecordsTrialsAndSavesTheBestModel) {
  TinyData data;
  testing::TempDir dir;
  std::ostringstream table;
  auto opts = options(dir, 4);
  opts.out = &table;
  opts.plot = true;
  tuner::RandomSearch search(tiny_model, opts);
  search.search(Inputs(data.x), Labels(data.y), data.fit());
  ASSERT_EQ(search.trials().size(), 4u);
  const auto project = dir / "p";
  for (const char* f : {"trial_0001/trial.json", "trial_0004/checkpoint.safetensors", "results.csv",
                        "search.png", "best/config.json"})
    EXPECT_TRUE(std::filesystem::exists(project / f)) << f;
  const std::string csv = read(project / "results.csv");
  EXPECT_TRUE(csv.starts_with("trial,units,learning_rate,optimizer,score,epochs,seconds\n")) << csv;
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 5);
  EXPECT_NE(table.str().find("trial       units  learning_rate   optimizer  val_accuracy"),
            std::string::npos)
      << table.str();
  const auto trial = nlohmann::json::parse(read(project / "trial_0002/trial.json"));
  EXPECT_EQ(trial["status"], "COMPLETED");
  EXPECT_EQ(trial["epochs"], 1);
  EXPECT_EQ(trial["hyperparameters"], nlohmann::json(search.trials()[1].values));

  const auto best = search.get_best_hyperparameters(1).at(0);
  double best_score = 0;
  for (const auto& t : search.trials()) best_score = std::max(best_score, *t.score);
  Model loaded = load_model(project / "best");
  EXPECT_NEAR(loaded.evaluate(data.x, data.y, {.verbose = 0}).at("accuracy"), best_score, 1e-6);
  auto models = search.get_best_models(2);
  ASSERT_EQ(models.size(), 2u);
  EXPECT_NEAR(models[0].evaluate(data.x, data.y, {.verbose = 0}).at("accuracy"), best_score, 1e-6);
  std::ostringstream summary;
  search.results_summary(summary, 2);
  EXPECT_NE(summary.str().find("Objective(name=\"val_accuracy\", direction=\"max\")"),
            std::string::npos);
  EXPECT_NE(summary.str().find("units: " + best.get("units").dump()), std::string::npos);
}

TEST(TunerRandomSearch, IsDeterministicAndResumesWithTheSameRemainingTrials) {
  TinyData data;
  testing::TempDir full, part;
  tuner::RandomSearch reference(tiny_model, options(full, 5));
  reference.search(Inputs(data.x), Labels(data.y), data.fit());

  tuner::RandomSearch first(tiny_model, options(part, 2));
  first.search(Inputs(data.x), Labels(data.y), data.fit());
  std::ostringstream table;
  auto opts = options(part, 5);
  opts.out = &table;
  tuner::RandomSearch resumed(tiny_model, opts);
  resumed.search(Inputs(data.x), Labels(data.y), data.fit());
  EXPECT_EQ(values_of(resumed.trials()), values_of(reference.trials()));
  EXPECT_EQ(resumed.trials()[1].seconds, first.trials()[1].seconds);  // recalled, not rerun
  size_t recalled = 0;
  for (size_t at = 0; (at = table.str().find("(earlier run)", at)) != std::string::npos; ++at)
    ++recalled;
  EXPECT_EQ(recalled, 2u);
  for (size_t i = 0; i < 5; ++i)
    EXPECT_EQ(resumed.trials()[i].score, reference.trials()[i].score) << i;

  auto other = options(part, 3, 99);  // another seed: the folder holds another search
  EXPECT_THROW(
      tuner::RandomSearch(tiny_model, other).search(Inputs(data.x), Labels(data.y), data.fit()),
      ConfigError);
  other.overwrite = true;
  std::ostringstream fresh;
  other.out = &fresh;
  tuner::RandomSearch overwritten(tiny_model, other);
  overwritten.search(Inputs(data.x), Labels(data.y), data.fit());
  EXPECT_EQ(fresh.str().find("(earlier run)"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(part / "p" / "trial_0004"));
}

TEST(TunerRandomSearch, NamesTheTrialWhoseBuildFails) {
  TinyData data;
  testing::TempDir dir;
  tuner::RandomSearch search(
      [](HyperParameters& hp) {
        hp.Float("rho", 0.5, 0.9);
        if (hp.values()["rho"] != 0.5) throw ConfigError("SGD does not take 'rho'");
        return tiny_model(hp);
      },
      options(dir, 2));
  try {
    search.search(Inputs(data.x), Labels(data.y), data.fit());
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("trial 1 ("), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'rho'"), std::string::npos) << e.what();
  }
}

// Keras Tuner's arithmetic for max_epochs 9, factor 3: brackets 2, 1, 0 with rounds of
// 9, 3, 1 trials at 1, 3, 9 epochs; 5, 2 at 3, 9; 3 at 9. Promoted trials continue from their
// parent's epochs, so each fit runs only the difference.
TEST(TunerHyperband, RunsKerasTunersBracketsAndEpochs) {
  TinyData data;
  testing::TempDir dir;
  int epochs_run = 0;
  LambdaCallback count({.on_epoch_end = [&](int, const Logs&) { ++epochs_run; }});
  auto opts = options(dir, 0);
  opts.fit = [&](HyperParameters&, FitOptions& fit) { fit.callbacks = {&count}; };
  tuner::Hyperband search(tiny_model, {.max_epochs = 9, .factor = 3}, opts);
  EXPECT_EQ(search.num_brackets(), 3);
  search.search(Inputs(data.x), Labels(data.y), data.fit());

  std::map<std::pair<int, int>, std::vector<const Trial*>> rounds;
  for (const auto& t : search.trials()) rounds[{t.bracket, t.round}].push_back(&t);
  const std::map<std::pair<int, int>, std::pair<size_t, int>> expected = {
      {{2, 0}, {9, 1}}, {{2, 1}, {3, 3}}, {{2, 2}, {1, 9}},
      {{1, 0}, {5, 3}}, {{1, 1}, {2, 9}}, {{0, 0}, {3, 9}}};
  ASSERT_EQ(rounds.size(), expected.size());
  for (const auto& [key, want] : expected) {
    ASSERT_EQ(rounds[key].size(), want.first) << key.first << "/" << key.second;
    for (const auto* t : rounds[key]) EXPECT_EQ(t->epochs, want.second);
  }
  EXPECT_EQ(search.trials().size(), 23u);
  EXPECT_EQ(epochs_run, 9 * 1 + 3 * 2 + 1 * 6 + 5 * 3 + 2 * 6 + 3 * 9);
  // Round 1 of bracket 2 continues the 3 best of its 9 first trials, with their values.
  std::vector<const Trial*> first = rounds[{2, 0}];
  std::ranges::stable_sort(first,
                           [](const Trial* a, const Trial* b) { return *a->score > *b->score; });
  for (size_t i = 0; i < 3; ++i) {
    const Trial* t = rounds[{2, 1}][i];
    EXPECT_EQ(t->parent, first[i]->id);
    EXPECT_EQ(t->values, first[i]->values);
    EXPECT_EQ(t->initial_epoch, 1);
  }
  const auto record = nlohmann::json::parse(read(dir / "p" / "trial_0010" / "trial.json"));
  EXPECT_EQ(record["bracket"], 2);
  EXPECT_EQ(record["round"], 1);
}

long status_kb(const char* field) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.starts_with(field)) return std::stol(line.substr(std::strlen(field) + 1));
  return -1;
}

// Each trial's model (about 1 MB of weights, with gradients and Adam's state 4 MB) is freed
// before the next: resident memory after trial 20 is that after trial 3.
TEST(TunerRandomSearch, MemoryStaysFlatAcrossTrials) {
#ifdef __SANITIZE_ADDRESS__
  GTEST_SKIP() << "AddressSanitizer keeps freed memory in quarantine, so resident memory grows by design";
#endif
  Tensor x = testing::random_tensor({32, 512}, 1);
  std::vector<int32_t> y(32, 1);
  testing::TempDir dir;
  std::vector<long> rss, peak;
  auto opts = options(dir, 20);
  opts.on_trial_end = [&](const Trial&) {
    rss.push_back(status_kb("VmRSS"));
    peak.push_back(status_kb("VmHWM"));
  };
  tuner::RandomSearch search(
      [](HyperParameters& hp) {
        const int64_t units = hp.Int("units", 480, 520);
        Sequential model(
            {layers::Dense({.units = units, .activation = "relu", .input_shape = {512}}),
             layers::Dense(3, "softmax")});
        model.compile({.optimizer = "adam", .metrics = {"accuracy"}});
        return model;
      },
      opts);
  search.search(
      Inputs(x), Labels(y),
      {.epochs = 1, .validation_data = ValidationData(Inputs(x), Labels(y)), .verbose = 0});
  ASSERT_EQ(rss.size(), 20u);
  std::cout << "  VmRSS after trial 3: " << rss[2] << " kB, after 20: " << rss[19] << " kB; VmHWM "
            << peak[2] << " -> " << peak[19] << " kB\n";
  EXPECT_LT(rss[19], rss[2] + 2048);
  EXPECT_LT(peak[19], peak[2] + 2048);
}

}  // namespace
}  // namespace kiln
