// kiln evaluate: loss and metrics of a saved model; with --report, per-class scores, the
// confusion matrix and the most confidently wrong images as pictures.
#include <algorithm>
#include <filesystem>

#include "commands.hpp"
#include "common.hpp"

namespace kiln::cli {

namespace {

struct EvaluateArgs {
  std::string dir, dataset, split = "test", report_dir, tta, rescale;
  int64_t batch_size = 32, mistakes = 25;
  bool json = false, report = false;
  double mpi_timeout = 300;
};

// The `count` wrong predictions made with the highest confidence, most confident first.
std::vector<int64_t> confident_mistakes(const Tensor& probs, const std::vector<int32_t>& predicted,
                                        const ByteTensor& labels, int64_t count) {
  std::vector<int64_t> wrong;
  for (int64_t i = 0; i < labels.size(); ++i)
    if (predicted[i] != labels[i]) wrong.push_back(i);
  auto confidence = [&](int64_t i) { return probs[i * probs.dim(1) + predicted[i]]; };
  std::stable_sort(wrong.begin(), wrong.end(), [&](int64_t a, int64_t b) { return confidence(a) > confidence(b); });
  if (static_cast<int64_t>(wrong.size()) > count) wrong.resize(count);
  return wrong;
}

// Prints the classification report (or adds it to `json`) and draws confusion.png and
// mistakes.png into the report folder.
void report(const EvaluateArgs& a, Model& model, const datasets::Dataset& data, const datasets::Split& split,
            nlohmann::ordered_json& json) {
  std::filesystem::path dir = a.report_dir.empty() ? a.dir : a.report_dir;
  if (!std::filesystem::is_directory(dir))
    throw IoError("--report-dir '" + dir.string() + "' is not an existing folder");
  const auto& names = model.class_names.empty() ? data.class_names : model.class_names;
  Tensor probs = model.predict(split.images, {.batch_size = a.batch_size, .tta = a.tta});
  std::vector<int32_t> predicted = argmax_rows(probs);
  std::vector<int32_t> truth(split.labels.data(), split.labels.data() + split.labels.size());
  ConfusionMatrix cm = confusion_matrix(truth, predicted, static_cast<int64_t>(names.size()));
  if (a.json) {
    auto scores = class_scores(cm);
    for (size_t k = 0; k < names.size(); ++k)
      json["classes"][names[k]] = {{"precision", scores[k].precision}, {"recall", scores[k].recall},
                                   {"f1-score", scores[k].f1}, {"support", scores[k].support}};
  } else {
    std::cout << '\n' << classification_report(cm, names) << '\n';
  }
  plot::confusion_matrix(cm, names, dir / "confusion.png",
                         {.title = "Confusion matrix: " + data.name + " " + a.split + " split"});

  std::vector<int64_t> wrong = confident_mistakes(probs, predicted, split.labels, a.mistakes);
  if (!a.json)
    std::cout << "Wrote " << (dir / "confusion.png").string() << " (true classes down, predicted across)\n";
  if (wrong.empty()) return;
  Shape shape = split.images.shape();
  shape[0] = static_cast<int64_t>(wrong.size());
  ByteTensor images(shape);
  int64_t row = split.images.row_size();
  std::vector<std::string> captions;
  for (size_t i = 0; i < wrong.size(); ++i) {
    int64_t k = wrong[i];
    std::copy_n(split.images.data() + k * row, row, images.data() + i * row);
    // Rounded down: a 99.97% guess reads 99%, not a certain 100%.
    int percent = static_cast<int>(100 * probs[k * probs.dim(1) + predicted[k]]);
    captions.push_back("true: " + names[split.labels[k]] + "\npred: " + names[predicted[k]] + " " +
                       std::to_string(percent) + "%");
  }
  plot::image_grid(images, captions, dir / "mistakes.png",
                   {.scale = 3, .title = "Most confident mistakes (" + data.name + " " + a.split + ")"});
  if (!a.json)
    std::cout << "Wrote " << (dir / "mistakes.png").string() << " (the " << wrong.size()
              << " most confidently wrong images, most confident first)\n";
}

void run(const EvaluateArgs& a) {
  Model model = load_model_to_run(a.dir, a.rescale, "sparse_categorical_crossentropy");
  warn_if_bf16_is_emulated(model);
  datasets::Dataset data = load_dataset_for(model, a.dataset);
  const datasets::Split& split = split_of(data, a.split);
  // Under mpirun the processes split the samples and combine their sums; the first prints.
  const auto strategy = launched_strategy(a.mpi_timeout, 0, 0);
  const bool chief = !strategy || strategy->is_chief();
  Logs logs = model.evaluate(split.images, split.labels,
                             {.batch_size = a.batch_size, .verbose = a.json || !chief ? 0 : 1, .tta = a.tta,
                              .distribute = strategy});
  if (!chief) return;
  nlohmann::ordered_json out;
  for (const auto& [k, v] : logs.items()) out[k] = v;
  if (a.report) report(a, model, data, split, out);
  if (a.json) std::cout << out.dump() << '\n';
}

}  // namespace

void add_evaluate(CLI::App& app) {
  auto* cmd = app.add_subcommand("evaluate", "Loss and metrics of a saved model on a dataset split");
  auto a = std::make_shared<EvaluateArgs>();
  cmd->add_option("MODEL", a->dir, "Model folder (config.json + model.safetensors), or a Keras .keras or .h5 file")
      ->required();
  add_rescale_option(cmd, a->rescale);
  cmd->add_option("--dataset", a->dataset, "Dataset (default: the one the model was trained on)");
  cmd->add_option("--split", a->split, "Which split")->check(CLI::IsMember({"test", "train"}))->capture_default_str();
  cmd->add_option("--batch-size", a->batch_size, "Samples per batch")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--tta", a->tta,
                  "Test-time augmentation: flip averages each image's outputs with its mirror image's (default: none, "
                  "the model's own forward pass)")
      ->check(CLI::IsMember({"flip"}));
  cmd->add_flag("--json", a->json, "Print one JSON object: {\"loss\": ..., \"accuracy\": ...}");
  cmd->add_flag("--report", a->report,
                "Also per-class precision, recall and F1, and pictures: confusion.png and mistakes.png");
  cmd->add_option("--report-dir", a->report_dir, "Folder for the report's pictures (default: the model folder)");
  cmd->add_option("--mistakes", a->mistakes, "How many wrong images mistakes.png shows")
      ->check(CLI::PositiveNumber)->capture_default_str();
  add_mpi_timeout_option(cmd, a->mpi_timeout);
  cmd->callback([a] { run(*a); });
}

}  // namespace kiln::cli
