// kiln show: look at dataset images, one scaled up or a grid, each captioned with its class; or,
// given a model and --layer, what that layer sees of one image: its feature maps (and a first
// convolution's kernels) as captioned grids.
#include <filesystem>

#include "commands.hpp"
#include "common.hpp"

namespace kiln::cli {

namespace {

struct ShowArgs {
  std::string model, layer;
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

// Each map (H, W) of a (H, W, C) array as an 8-bit image, stretched from its own minimum to
// maximum (a flat map is mid grey): C images (C, H, W).
ByteTensor maps_as_images(const float* values, int64_t H, int64_t W, int64_t C) {
  ByteTensor images({C, H, W});
  for (int64_t c = 0; c < C; ++c) {
    float lo = values[c], hi = values[c];
    for (int64_t p = 0; p < H * W; ++p) lo = std::min(lo, values[p * C + c]), hi = std::max(hi, values[p * C + c]);
    for (int64_t p = 0; p < H * W; ++p)
      images[c * H * W + p] =
          hi > lo ? static_cast<uint8_t>(std::lround(255.0f * (values[p * C + c] - lo) / (hi - lo))) : 128;
  }
  return images;
}

std::filesystem::path with_suffix(const std::filesystem::path& path, const std::string& suffix) {
  return path.parent_path() / (path.stem().string() + suffix + path.extension().string());
}

void show_layer(const ShowArgs& a) {
  Model model = load_model(a.model);
  datasets::Dataset data = load_dataset_for(model, a.dataset);
  const datasets::Split& split = split_of(data, a.split);
  const int64_t index = a.index.value_or(0), n = split.images.dim(0);
  if (index < 0 || index >= n)
    throw ValueError("--index " + std::to_string(index) + " is outside " + data.name + "'s " + a.split + " split (0 to " +
                     std::to_string(n - 1) + ")");
  Tensor x = split.images.slice(index, index + 1).astype<float>();
  const auto rescale = static_cast<float>(model.preprocessing.rescale);
  for (int64_t i = 0; i < x.size(); ++i) x[i] *= rescale;
  Tensor out = model.layer_output(x, a.layer);
  if (out.rank() != 4)
    throw ShapeError("layer '" + a.layer + "' outputs shape " + shape_str(Shape(out.shape().begin() + 1, out.shape().end())) +
                     " per sample, not feature maps (height, width, channels)");
  const int64_t H = out.dim(1), W = out.dim(2), C = out.dim(3);
  std::vector<std::string> captions;
  for (int64_t c = 0; c < C; ++c) captions.push_back("map " + std::to_string(c));
  const std::string label = data.class_names.at(split.labels[index]);
  std::filesystem::path output =
      a.output.empty() ? std::filesystem::path(a.layer + "-" + a.split + "-" + std::to_string(index) + ".png")
                       : std::filesystem::path(a.output);
  const int scale = a.scale ? a.scale : std::max(2, static_cast<int>(112 / std::max<int64_t>(H, W)));
  plot::image_grid(maps_as_images(out.data(), H, W, C), captions, output,
                   {.scale = scale, .columns = a.columns, .cmap = a.cmap});
  std::cout << "Wrote " << output.string() << " (the " << C << " feature maps, " << H << "x" << W << ", of layer '"
            << a.layer << "' for " << data.name << "'s " << a.split << " image " << index << ", a " << label << ")\n";
  // A convolution on the image itself: its kernels are small images too.
  const LayerRef layer = model.get_layer(a.layer);
  if (layer->class_name() == "Conv2D" && layer->params()[0].shape[2] == 1) {
    const Shape& k = layer->params()[0].shape;  // [kh, kw, 1, filters]
    std::vector<std::string> names;
    for (int64_t f = 0; f < k[3]; ++f) names.push_back("kernel " + std::to_string(f));
    const std::filesystem::path kernels = with_suffix(output, "-kernels");
    plot::image_grid(maps_as_images(layer->params()[0].value.data(), k[0], k[1], k[3]), names, kernels,
                     {.scale = 16, .columns = a.columns, .cmap = a.cmap});
    std::cout << "Wrote " << kernels.string() << " (its " << k[3] << " kernels, " << k[0] << "x" << k[1] << ")\n";
  }
}

void run(const ShowArgs& a) {
  if (!a.layer.empty()) return show_layer(a);
  if (!a.model.empty()) throw ValueError("a model folder is shown with --layer NAME (its feature maps)");
  FolderSettings folder;
  datasets::Dataset data = is_folder(a.dataset) ? load_folder(a.dataset, folder, 0) : datasets::load(a.dataset);
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
  cmd->add_option("model", a->model, "A model folder, to show what one of its layers sees (with --layer)");
  cmd->add_option("--layer", a->layer, "The layer whose feature maps to draw for image --index (default split: test)");
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
  cmd->callback([a, cmd] {
    if (!a->layer.empty() && cmd->count("--split") == 0) a->split = "test";
    run(*a);
  });
}

}  // namespace kiln::cli
