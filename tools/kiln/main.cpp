// kiln: the command-line tool. Subcommands live one per file; errors reach the user as one
// line naming what was wrong.
#include <iostream>

#include "commands.hpp"
#include "common.hpp"
#include "kiln/error.hpp"

int main(int argc, char** argv) {
  CLI::App app{"kiln: train, evaluate and use image classifiers, the Keras way"};
  app.require_subcommand(1);
  kiln::cli::add_version_flag(app);
  kiln::cli::add_train(app);
  kiln::cli::add_evaluate(app);
  kiln::cli::add_predict(app);
  kiln::cli::add_summary(app);
  kiln::cli::add_show(app);
  kiln::cli::add_plot(app);
  kiln::cli::add_serve(app);
  kiln::cli::add_tune(app);
  kiln::cli::add_datasets(app);
  kiln::cli::add_export(app);
  kiln::cli::add_convert(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::cout.flush();
    std::cerr << "kiln: error: " << e.what() << '\n';
    return kiln::cli::end_after_error();
  }
  return 0;
}
