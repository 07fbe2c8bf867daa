// kiln convert: a model from one format to another: a Keras file (.keras, .h5) or a kiln folder
// in, a kiln folder or a Keras 3 .keras archive out.
#include "commands.hpp"
#include "common.hpp"

namespace kiln::cli {

namespace {
struct ConvertArgs {
  std::string source, dest, rescale;
};
}  // namespace

void add_convert(CLI::App& app) {
  auto* cmd = app.add_subcommand("convert",
                                 "Convert a model: a Keras .keras or .h5 file to a kiln model "
                                 "folder, or a model to a .keras file");
  auto a = std::make_shared<ConvertArgs>();
  cmd->add_option("SOURCE", a->source, "A Keras .keras or .h5 file, or a kiln model folder")
      ->required();
  cmd->add_option("DEST", a->dest,
                  "A folder to write a kiln model into, or a path ending in .keras")
      ->required();
  add_rescale_option(cmd, a->rescale);
  cmd->callback([a] {
    const Model model = load_model_to_run(a->source, a->rescale);
    model.save(a->dest);
    const bool keras = std::filesystem::path(a->dest).extension() == ".keras";
    std::cout << "Wrote " << a->dest
              << (keras ? " (a Keras 3 archive: config.json, metadata.json, model.weights.h5)"
                        : " (a kiln model folder: config.json + model.safetensors)")
              << ": " << model.name() << ", " << model.layers().size() << " layers, "
              << model.count_params() << " parameters\n";
  });
}

}  // namespace kiln::cli
