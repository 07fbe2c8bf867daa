// A tuner project's trial_0001/trial.json, read when a search resumes: a Hyperband search over a
// tiny model then recalls it (or runs the trial again) and carries on from it.
#include <fstream>

#include "fuzz_support.hpp"
#include "kiln/layers/core.hpp"
#include "kiln/tuner.hpp"
#include "tuner/records.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kiln;
  static const Tensor x = [] {
    Tensor t({8, 2});
    for (int64_t i = 0; i < t.size(); ++i) t.data()[i] = static_cast<float>(i % 3);
    return t;
  }();
  static const Labels y(std::vector<int32_t>{0, 1, 0, 1, 0, 1, 0, 1});
  const fuzz::ScratchDir dir;
  const auto trial = tuner::detail::trial_dir(dir.path() / "project", 1);
  std::filesystem::create_directories(trial);
  std::ofstream(trial / "trial.json", std::ios::binary).write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  fuzz::refused_or_read([&] {
    auto build = [](tuner::HyperParameters& hp) -> Model {
      Sequential model({layers::Dense({.units = hp.Int("units", 1, 3), .activation = "relu", .input_shape = {2}}),
                        layers::Dense(2, "softmax")});
      model.compile({.metrics = {"accuracy"}});
      return model;
    };
    tuner::Hyperband search(build, {.max_epochs = 2, .factor = 2},
                            {.objective = "accuracy", .seed = 1, .directory = dir.path(), .project_name = "project",
                             .out = nullptr, .plot = false});
    search.search(x, y, {.batch_size = 4, .verbose = 0});
    search.get_best_models(1);
  });
  return 0;
}
