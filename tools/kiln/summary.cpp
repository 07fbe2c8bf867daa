#include "commands.hpp"
#include "common.hpp"

namespace kiln::cli {

namespace {
struct SummaryArgs {
  std::string dir, plot;
  bool hide_shapes = false;
};
}  // namespace

void add_summary(CLI::App& app) {
  auto* cmd = app.add_subcommand("summary", "Print the Keras-style summary of a saved model, and draw its graph");
  auto a = std::make_shared<SummaryArgs>();
  cmd->add_option("DIR", a->dir, "Model folder (config.json + model.safetensors), or a Keras .keras or .h5 file")->required();
  cmd->add_option("--plot", a->plot,
                  "Also draw the model's graph, as keras.utils.plot_model does, to this file (.png, .svg or .pdf)");
  cmd->add_flag("--hide-shapes", a->hide_shapes, "Leave the shapes out of the graph's boxes");
  cmd->callback([a] {
    Model model = load_model_to_run(a->dir, "");
    model.summary(std::cout);
    if (a->plot.empty()) return;
    plot::model(model, a->plot, {.show_shapes = !a->hide_shapes});
    std::cout << "Wrote " << a->plot << " (the graph of '" << model.name() << "')\n";
  });
}

}  // namespace kiln::cli
