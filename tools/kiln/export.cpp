#include <iomanip>

#include "commands.hpp"
#include "common.hpp"

namespace kiln::cli {

namespace {
struct ExportArgs {
  std::string dir, format = "onnx", output;
  int64_t opset = 17;
  bool keep_batch_norm = false;
};

std::string dims_str(const Shape& shape) {
  std::string s = "[batch";
  for (int64_t d : shape) s += ", " + std::to_string(d);
  return s + "]";
}
}  // namespace

void add_export(CLI::App& app) {
  auto* cmd = app.add_subcommand("export", "Write a saved model in another format (ONNX) for other runtimes");
  auto a = std::make_shared<ExportArgs>();
  cmd->add_option("MODEL", a->dir, "Model folder (config.json + model.safetensors), or a Keras .keras or .h5 file")->required();
  cmd->add_option("--format", a->format, "The format: onnx")->check(CLI::IsMember({"onnx"}))->capture_default_str();
  cmd->add_option("--output", a->output, "The file to write (default: MODEL/model.onnx; beside a Keras file, its name with .onnx)");
  cmd->add_option("--opset", a->opset, "The ONNX operator set version, 13 to 17")->capture_default_str();
  cmd->add_flag("--keep-batch-norm", a->keep_batch_norm,
                "Write BatchNormalization as an operator instead of folding it into the Conv2D or Dense before it");
  cmd->callback([a] {
    const Model model = load_model(a->dir);
    // Beside a Keras file (model.keras -> model.onnx), inside a model folder.
    const std::filesystem::path source(a->dir);
    const std::filesystem::path out = !a->output.empty()                      ? std::filesystem::path(a->output)
                                      : std::filesystem::is_regular_file(source) ? std::filesystem::path(source).replace_extension(".onnx")
                                                                                 : source / "model.onnx";
    export_onnx(model, out, {.opset = a->opset, .fold_batch_norm = !a->keep_batch_norm});
    std::cout << "Wrote " << out.string() << " (ONNX, opset " << a->opset << ", " << std::fixed << std::setprecision(1)
              << static_cast<double>(std::filesystem::file_size(out)) / 1e6 << " MB)\n";
    for (const auto& in : model.inputs()) {
      std::cout << "  input  '" << in.layer()->name() << "': float32 " << dims_str(in.shape()) << ", channels last";
      if (model.preprocessing.rescale != 1.0)
        std::cout << " (pixels times " << std::defaultfloat << model.preprocessing.rescale << ')';
      std::cout << '\n';
    }
    for (const auto& output : model.outputs())
      std::cout << "  output '" << output.layer()->name() << "': float32 " << dims_str(output.shape()) << '\n';
  });
}

}  // namespace kiln::cli
