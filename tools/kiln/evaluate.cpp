#include "commands.hpp"
#include "common.hpp"

namespace kiln::cli {

namespace {

struct EvaluateArgs {
  std::string dir, dataset, split = "test";
  int64_t batch_size = 32;
  bool json = false;
};

void run(const EvaluateArgs& a) {
  Sequential model = load_model(a.dir);
  if (!model.compiled())
    throw ConfigError(a.dir + "/config.json has no compile_config, so there is no loss to evaluate");
  datasets::Dataset data = datasets::load(dataset_for(model, a.dataset));
  const datasets::Split& split = split_of(data, a.split);
  Logs logs = model.evaluate(split.images, split.labels, {.batch_size = a.batch_size, .verbose = a.json ? 0 : 1});
  if (a.json) {
    nlohmann::ordered_json out;
    for (const auto& [k, v] : logs.items()) out[k] = v;
    std::cout << out.dump() << '\n';
  }
}

}  // namespace

void add_evaluate(CLI::App& app) {
  auto* cmd = app.add_subcommand("evaluate", "Loss and metrics of a saved model on a dataset split");
  auto a = std::make_shared<EvaluateArgs>();
  cmd->add_option("DIR", a->dir, "Model folder (config.json + model.safetensors)")->required();
  cmd->add_option("--dataset", a->dataset, "Dataset (default: the one the model was trained on)");
  cmd->add_option("--split", a->split, "Which split")->check(CLI::IsMember({"test", "train"}))->capture_default_str();
  cmd->add_option("--batch-size", a->batch_size, "Samples per batch")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_flag("--json", a->json, "Print one JSON object: {\"loss\": ..., \"accuracy\": ...}");
  cmd->callback([a] { run(*a); });
}

}  // namespace kiln::cli
