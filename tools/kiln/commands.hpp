// The kiln tool's subcommands: each file registers one on the CLI11 app.
#pragma once

#include <CLI/CLI.hpp>

namespace kiln::cli {

void add_train(CLI::App& app);
void add_evaluate(CLI::App& app);
void add_predict(CLI::App& app);
void add_summary(CLI::App& app);
void add_show(CLI::App& app);
void add_plot(CLI::App& app);
void add_serve(CLI::App& app);
void add_tune(CLI::App& app);
void add_datasets(CLI::App& app);
void add_export(CLI::App& app);
void add_convert(CLI::App& app);
// kiln --version: the version, this CPU's instruction sets, the compiler and the libraries.
void add_version_flag(CLI::App& app);

}  // namespace kiln::cli
