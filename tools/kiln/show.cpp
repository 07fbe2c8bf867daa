// kiln show: look at dataset images, one scaled up or a grid, each captioned with its class.
#include <filesystem>

#include "commands.hpp"
#include "common.hpp"

namespace kiln::cli {

namespace {

struct ShowArgs {
  std::string dataset = "fashion-mnist", split = "train", indices, output, cmap = "gray";
  std::optional<int64_t> index;
  int scale = 0;
  int64_t columns = 0;
};

// [first, last) from "A:B" (either side may be empty: from the start, to the end).
std::pair<int64_t, int64_t> parse_range(const std::string& text, int64_t n) {
  auto colon = text.find(':');
  auto bad = [&] {
    return ValueError("--indices expects FIRST:END (e.g. 0:25, END excluded), received '" + text +
                      "'");
  };
  if (colon == std::string::npos) throw bad();
  auto number = [&](const std::string& s, int64_t fallback) -> int64_t {
    if (s.empty()) return fallback;
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(s, &used);
    } catch (const std::exception&) {
      throw bad();
    }
    if (used != s.size()) throw bad();
    return v;
  };
  return {number(text.substr(0, colon), 0), number(text.substr(colon + 1), n)};
}

void run(const ShowArgs& a) {
  datasets::Dataset data = datasets::load(a.dataset);
  const datasets::Split& split = split_of(data, a.split);
  int64_t n = split.images.dim(0);
  const std::string range_note = " (" + data.name + "'s " + a.split + " split has " +
                                 std::to_string(n) + " images: indices 0 to " +
                                 std::to_string(n - 1) + ")";
  int64_t first = a.index.value_or(0), end = first + 1;
  if (!a.indices.empty()) std::tie(first, end) = parse_range(a.indices, n);
  if (first < 0 || first >= n)
    throw ValueError((a.indices.empty() ? "--index " : "--indices starts at ") +
                     std::to_string(first) + (first < 0 ? ", before the start" : ", past the end") +
                     range_note);
  if (end <= first || end > n)
    throw ValueError("--indices " + a.indices + " selects no images or runs past the end" +
                     range_note);
  ByteTensor images = split.images.slice(first, end);
  std::vector<std::string> captions;
  for (int64_t i = first; i < end; ++i) captions.push_back(data.class_names.at(split.labels[i]));
  std::string output = a.output;
  if (output.empty())
    output = data.name + "-" + a.split + "-" + std::to_string(first) +
             (end - first > 1 ? "-" + std::to_string(end - 1) : "") + ".png";
  int scale = a.scale ? a.scale : end - first > 1 ? 4 : 10;
  plot::image_grid(images, captions, output,
                   {.scale = scale, .columns = a.columns, .cmap = a.cmap});
  std::cout << "Wrote " << output << " (" << (end - first)
            << (end - first > 1 ? " images" : " image") << " of " << data.name << "'s " << a.split
            << " split, from index " << first << ")\n";
}

}  // namespace

void add_show(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "show", "Draw dataset images to a picture file, captioned with their classes");
  auto a = std::make_shared<ShowArgs>();
  cmd->add_option("--dataset", a->dataset, "fashion-mnist or mnist")->capture_default_str();
  cmd->add_option("--split", a->split, "Which split")
      ->check(CLI::IsMember({"train", "test"}))
      ->capture_default_str();
  auto* index = cmd->add_option("--index", a->index, "One image (default: 0)");
  cmd->add_option("--indices", a->indices, "A grid of images FIRST:END, END excluded (e.g. 0:25)")
      ->excludes(index);
  cmd->add_option(
      "--output", a->output,
      "Picture to write: .png, .svg or .pdf (default: <dataset>-<split>-<indices>.png)");
  cmd->add_option("--scale", a->scale,
                  "Picture pixels per image pixel (default: 10 for one image, 4 for a grid)")
      ->check(CLI::Range(1, 64));
  cmd->add_option("--columns", a->columns, "Images per row (default: a square grid)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--cmap", a->cmap, "Colour map: gray, binary (ink on paper) or viridis")
      ->check(CLI::IsMember({"gray", "binary", "viridis"}))
      ->capture_default_str();
  cmd->callback([a] { run(*a); });
}

}  // namespace kiln::cli
