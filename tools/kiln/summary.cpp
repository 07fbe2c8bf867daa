#include "commands.hpp"
#include "common.hpp"

namespace kiln::cli {

void add_summary(CLI::App& app) {
  auto* cmd = app.add_subcommand("summary", "Print the Keras-style summary of a saved model");
  auto dir = std::make_shared<std::string>();
  cmd->add_option("DIR", *dir, "Model folder (config.json + model.safetensors)")->required();
  cmd->callback([dir] { load_model(*dir).summary(std::cout); });
}

}  // namespace kiln::cli
