// kiln predict: class and probabilities for image files or dataset images.
#include <charconv>

#include "commands.hpp"
#include "common.hpp"

namespace kiln::cli {

namespace {

struct PredictArgs {
  std::string dir, dataset, split = "test", indices, tta, rescale;
  std::vector<std::string> images;
  bool json = false;
};

int64_t parse_index(const std::string& text, const std::string& spec) {
  int64_t v = -1;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 0)
    throw ValueError("--indices: '" + text + "' in '" + spec + "' is not a non-negative integer");
  return v;
}

// "0:100" (start:stop), "7" or "3,7,9", each checked against n.
std::vector<int64_t> parse_indices(const std::string& spec, int64_t n) {
  std::vector<int64_t> out;
  std::string_view rest = spec;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string part(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    size_t colon = part.find(':');
    int64_t begin = parse_index(part.substr(0, colon), spec);
    int64_t end = colon == std::string::npos ? begin + 1 : parse_index(part.substr(colon + 1), spec);
    if (end > n || begin >= end)
      throw ValueError("--indices: '" + part + "' is outside the split's " + std::to_string(n) +
                       " images (valid: 0 to " + std::to_string(n - 1) + ")");
    for (int64_t i = begin; i < end; ++i) out.push_back(i);
  }
  if (out.empty()) throw ValueError("--indices: no index in '" + spec + "'");
  return out;
}

void print(const Model& model, const Tensor& probs, int64_t row, const nlohmann::ordered_json& input,
           const std::string& shown, bool json) {
  int64_t classes = probs.row_size();
  const float* p = probs.data() + row * classes;
  int64_t best = metrics::argmax(p, classes);
  std::string label = best < static_cast<int64_t>(model.class_names.size()) ? model.class_names[best]
                                                                             : std::to_string(best);
  if (json) {
    nlohmann::ordered_json out = input;
    out["class"] = best;
    out["label"] = label;
    out["probabilities"] = std::vector<float>(p, p + classes);
    std::cout << out.dump() << '\n';
  } else {
    std::printf("%s: %s (%.4f)\n", shown.c_str(), label.c_str(), p[best]);
  }
}

void run(const PredictArgs& a) {
  if (a.images.empty() == a.indices.empty())
    throw ValueError("give either image files or --indices with --dataset, not both or neither");
  Model model = load_model_to_run(a.dir, a.rescale);
  warn_if_bf16_is_emulated(model);
  const Shape& in = model.input_shape();
  if (!a.images.empty()) {
    const auto image = image_input(in);
    if (!image) throw ShapeError("the model takes inputs shaped " + shape_str(in) + " per sample, not images");
    Shape batch = in;
    batch.insert(batch.begin(), static_cast<int64_t>(a.images.size()));
    ByteTensor pixels(batch);
    for (size_t i = 0; i < a.images.size(); ++i) {
      // Any PNG or JPEG: converted to the model's channels and resized to its input, as the
      // model's preprocessing says.
      ByteTensor img = datasets::load_image(a.images[i], {image->height, image->width}, image->channels,
                                            model.preprocessing.interpolation,
                                            model.preprocessing.crop_to_aspect_ratio);
      std::copy_n(img.data(), img.size(), pixels.data() + i * img.size());
    }
    Tensor probs = model.predict(pixels, {.tta = a.tta});
    for (size_t i = 0; i < a.images.size(); ++i)
      print(model, probs, static_cast<int64_t>(i), {{"file", a.images[i]}}, a.images[i], a.json);
    return;
  }
  datasets::Dataset data = load_dataset_for(model, a.dataset);
  const datasets::Split& split = split_of(data, a.split);
  std::vector<int64_t> idx = parse_indices(a.indices, split.images.dim(0));
  Shape batch = split.images.shape();
  batch[0] = static_cast<int64_t>(idx.size());
  ByteTensor pixels(batch);
  int64_t row = split.images.row_size();
  for (size_t i = 0; i < idx.size(); ++i)
    std::copy_n(split.images.data() + idx[i] * row, row, pixels.data() + i * row);
  Tensor probs = model.predict(pixels, {.tta = a.tta});
  // A model without class names (one Keras saved) takes the dataset's, when their counts agree.
  if (model.class_names.empty() && static_cast<int64_t>(data.class_names.size()) == probs.row_size())
    model.class_names = data.class_names;
  for (size_t i = 0; i < idx.size(); ++i)
    print(model, probs, static_cast<int64_t>(i), {{"index", idx[i]}},
          a.split + "[" + std::to_string(idx[i]) + "]", a.json);
}

}  // namespace

void add_predict(CLI::App& app) {
  auto* cmd = app.add_subcommand("predict", "Classify image files (PNG, JPEG) or dataset images with a saved model");
  auto a = std::make_shared<PredictArgs>();
  cmd->add_option("DIR", a->dir, "Model folder (config.json + model.safetensors), or a Keras .keras or .h5 file")->required();
  add_rescale_option(cmd, a->rescale);
  cmd->add_option("IMAGES", a->images,
                  "PNG or JPEG files, converted to the model's channels and resized to its input as its "
                  "preprocessing says");
  cmd->add_option("--dataset", a->dataset, "Dataset for --indices (default: the model's)");
  cmd->add_option("--split", a->split, "Dataset split for --indices")->check(CLI::IsMember({"test", "train"}))
      ->capture_default_str();
  cmd->add_option("--indices", a->indices, "Dataset images: start:stop, N, or a comma list");
  cmd->add_option("--tta", a->tta, "Test-time augmentation: flip averages each image's outputs with its mirror image's")
      ->check(CLI::IsMember({"flip"}));
  cmd->add_flag("--json", a->json, "One JSON object per image and line");
  cmd->callback([a] { run(*a); });
}

}  // namespace kiln::cli
