// kiln plot: the learning curves of a history.csv as a picture.
#include <filesystem>

#include "commands.hpp"
#include "common.hpp"

namespace kiln::cli {

namespace {

struct PlotArgs {
  std::string csv, output, ylim, title = "Learning curves";
};

std::pair<double, double> parse_ylim(const std::string& text) {
  auto colon = text.find(':');
  try {
    if (colon != std::string::npos) {
      size_t a = 0, b = 0;
      std::string lo = text.substr(0, colon), hi = text.substr(colon + 1);
      double l = std::stod(lo, &a), h = std::stod(hi, &b);
      if (a == lo.size() && b == hi.size() && l < h) return {l, h};
    }
  } catch (const std::exception&) {
  }
  throw ValueError("--ylim expects LOW:HIGH with LOW < HIGH (e.g. 0:1), received '" + text + "'");
}

void run(const PlotArgs& a) {
  plot::CurvesOptions options{.title = a.title};
  if (!a.ylim.empty()) options.ylim = parse_ylim(a.ylim);
  History history = read_history_csv(a.csv);
  std::filesystem::path output = a.output.empty()
                                     ? std::filesystem::path(a.csv).parent_path() / "curves.png"
                                     : std::filesystem::path(a.output);
  plot::learning_curves(history, output, options);
  size_t n = history.epoch.size();
  std::cout << "Wrote " << output.string() << " (" << n << (n == 1 ? " epoch" : " epochs") << ")\n";
}

}  // namespace

void add_plot(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "plot", "Draw the learning curves of a history.csv (what kiln train writes)");
  auto a = std::make_shared<PlotArgs>();
  cmd->add_option("CSV", a->csv, "History file: epoch, then one column per metric")->required();
  cmd->add_option("--output", a->output,
                  "Picture to write: .png, .svg or .pdf (default: curves.png beside the CSV)");
  cmd->add_option("--ylim", a->ylim, "Value axis range LOW:HIGH (default: the data's range)");
  cmd->add_option("--title", a->title, "Title")->capture_default_str();
  cmd->callback([a] { run(*a); });
}

}  // namespace kiln::cli
