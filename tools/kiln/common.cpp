#include "common.hpp"

#include <algorithm>
#include <cmath>
#include <iostream>

namespace kiln::cli {

std::string dataset_for(const Model& model, const std::string& requested) {
  if (!requested.empty()) return requested;
  auto it = model.metadata.find("dataset");
  return it != model.metadata.end() ? it->second : "fashion-mnist";
}

namespace {

// "1/255", "0.00392", "1": a positive scale.
double parse_rescale(const std::string& text) {
  const size_t slash = text.find('/');
  try {
    size_t used = 0;
    const double num = std::stod(text.substr(0, slash), &used);
    double value = num;
    bool whole = used == (slash == std::string::npos ? text.size() : slash);
    if (slash != std::string::npos) {
      size_t den_used = 0;
      const std::string den_text = text.substr(slash + 1);
      const double den = std::stod(den_text, &den_used);
      whole = whole && den_used == den_text.size() && den != 0;
      value = num / den;
    }
    if (whole && value > 0 && std::isfinite(value)) return value;
  } catch (const std::exception&) {
  }
  throw ValueError("--rescale: expected a positive number or a fraction such as 1/255, received '" + text + "'");
}

}  // namespace

Model load_model_to_run(const std::string& path, const std::string& rescale, const std::string& compile_if_needed) {
  Model model = load_model(path);
  const bool imported = model.metadata.count("imported_from") > 0;
  if (!rescale.empty()) {
    model.preprocessing.rescale = parse_rescale(rescale);
  } else if (imported) {
    std::cerr << "kiln: " << path << " is a Keras model, which records no preprocessing: pixels are scaled by "
              << model.metadata["rescale"] << "; --rescale changes it\n";
  }
  if (!model.compiled() && !compile_if_needed.empty()) {
    std::cerr << "kiln: " << path << " has no compile settings kiln can take"
              << (model.metadata.count("keras_compile") ? " (" + model.metadata["keras_compile"] + ")" : std::string())
              << "; using loss " << compile_if_needed << " with accuracy\n";
    model.compile({.loss = losses::get(compile_if_needed), .optimizer = optimizers::get("sgd"), .metrics = {"accuracy"}});
  }
  return model;
}

void add_rescale_option(CLI::App* cmd, std::string& rescale) {
  cmd->add_option("--rescale", rescale,
                  "Scale of the pixels (0-255) before the model, e.g. 1/255 (default: the model's own; for a Keras "
                  "file, 1/255 unless the model begins with a Rescaling layer)");
}

bool is_folder(const std::string& dataset) {
  std::error_code ec;
  return std::filesystem::is_directory(dataset, ec);
}

namespace {

namespace fs = std::filesystem;

// The first image file of the folder, in Keras's order.
fs::path first_image(const fs::path& dir) {
  std::vector<fs::path> found;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
       !ec && it != end; it.increment(ec))
    if (datasets::is_image_file_name(it->path()) && it->is_regular_file(ec)) found.push_back(it->path());
  if (found.empty()) throw ValueError("no images found in '" + dir.string() + "' (.bmp, .gif, .jpeg, .jpg, .png)");
  return *std::min_element(found.begin(), found.end());
}

datasets::Split to_split(datasets::ImageFolder&& folder) {
  const int64_t n = folder.images.dim(0);
  ByteTensor labels({n});
  for (int64_t i = 0; i < n; ++i) labels.data()[i] = static_cast<uint8_t>(folder.labels[i]);
  return {std::move(folder.images), std::move(labels)};
}

// The folder holding the training images (DIR/train in a train/test layout), with the settings
// not given read off its first image, and the options that load it.
struct Folder {
  fs::path train_dir, test_dir;  // test_dir empty: no test split
  datasets::ImageFolderOptions options;
};

Folder open_folder(const std::string& dir, FolderSettings& s, uint32_t seed, const std::vector<std::string>& class_names) {
  const fs::path root(dir);
  std::error_code ec;
  const bool split = fs::is_directory(root / "train", ec) && fs::is_directory(root / "test", ec);
  Folder f{split ? root / "train" : root, split ? root / "test" : fs::path(), {}};
  if (!s.image_size || s.color_mode.empty()) {
    const fs::path first = first_image(f.train_dir);
    io::ImageInfo info = io::image_info(io::read_file(first), first.string());
    if (!s.image_size) s.image_size = std::array<int64_t, 2>{info.height, info.width};
    if (s.color_mode.empty()) s.color_mode = info.channels == 1 ? "grayscale" : "rgb";
  }
  f.options = {.class_names = class_names, .color_mode = s.color_mode, .image_size = *s.image_size, .seed = seed,
               .interpolation = s.interpolation};
  return f;
}

void check_classes(const std::string& dir, const std::vector<std::string>& class_names) {
  if (class_names.size() > 256)
    throw ValueError("'" + dir + "' has " + std::to_string(class_names.size()) +
                     " classes; kiln's command line takes up to 256");
}

}  // namespace

FolderPipelines folder_pipelines(const std::string& dir, FolderSettings& s, uint32_t seed, int64_t validation_size,
                                 int64_t batch_size, const std::string& cache) {
  Folder f = open_folder(dir, s, seed, {});
  datasets::ImageFiles files = datasets::list_image_files(f.train_dir, f.options);
  check_classes(dir, files.class_names);
  const auto n = static_cast<int64_t>(files.paths.size());
  if (validation_size >= n)
    throw ValueError("--validation-size must be in [0, " + std::to_string(n) + "), received " + std::to_string(validation_size));
  auto part = [&](int64_t begin, int64_t end) {
    return datasets::ImageFiles{{files.paths.begin() + begin, files.paths.begin() + end},
                                {files.labels.begin() + begin, files.labels.begin() + end},
                                files.class_names};
  };
  auto cached = [&](data::Dataset ds, const std::string& suffix) {
    if (cache == "none") return ds;
    return cache == "memory" ? ds.cache() : ds.cache(cache + suffix);
  };
  const int64_t channels = s.color_mode == "grayscale" ? 1 : s.color_mode == "rgb" ? 3 : 4;
  FolderPipelines p{dir, files.class_names, {(*s.image_size)[0], (*s.image_size)[1], channels}, n - validation_size, {}, {}, {}};
  // Decoded by the pipeline's threads while the model trains; the full shuffle draws each epoch's
  // order as fit does for arrays.
  p.train = cached(datasets::image_files_dataset(part(validation_size, n), f.options), "")
                .shuffle(n - validation_size)
                .batch(batch_size)
                .prefetch();
  if (validation_size > 0)
    p.validation = cached(datasets::image_files_dataset(part(0, validation_size), f.options), ".validation")
                       .batch(batch_size)
                       .prefetch();
  if (!f.test_dir.empty()) {
    f.options.class_names = files.class_names;
    f.options.shuffle = false;
    p.test = datasets::image_pipeline_from_directory(f.test_dir, f.options).batch(batch_size).prefetch();
  }
  return p;
}

datasets::Dataset load_folder(const std::string& dir, FolderSettings& s, uint32_t seed,
                              const std::vector<std::string>& class_names) {
  Folder f = open_folder(dir, s, seed, class_names);
  datasets::ImageFolder train = datasets::image_dataset_from_directory(f.train_dir, f.options);
  check_classes(dir, train.class_names);
  datasets::Dataset data{dir, {}, {}, train.class_names};
  data.train = to_split(std::move(train));
  if (!f.test_dir.empty()) {
    f.options.class_names = data.class_names;
    f.options.shuffle = false;
    data.test = to_split(datasets::image_dataset_from_directory(f.test_dir, f.options));
  } else {
    Shape empty = data.train.images.shape();
    empty[0] = 0;
    data.test = {ByteTensor(empty), ByteTensor({0})};
  }
  return data;
}

datasets::Dataset load_dataset_for(const Model& model, const std::string& requested) {
  const std::string name = dataset_for(model, requested);
  if (!is_folder(name)) return datasets::load(name);
  const auto image = image_input(model.input_shape());
  if (!image)
    throw ShapeError("the model takes inputs shaped " + shape_str(model.input_shape()) + ", not images; it cannot read '" +
                     name + "'");
  FolderSettings s{std::array<int64_t, 2>{image->height, image->width},
                   image->channels == 1 ? "grayscale" : image->channels == 4 ? "rgba" : "rgb", model.preprocessing.interpolation};
  return load_folder(name, s, 0, model.class_names);
}

const datasets::Split& split_of(const datasets::Dataset& data, const std::string& split) {
  if (split == "train") return data.train;
  if (split == "test") {
    if (data.test.images.dim(0) == 0)
      throw ValueError(data.name + " has no test split: a folder gives one when it holds train/ and test/ folders");
    return data.test;
  }
  throw ValueError("unknown split '" + split + "'; expected train or test");
}

bool uses_bf16(const Model& model) {
  return std::any_of(model.layers().begin(), model.layers().end(),
                     [](const LayerRef& l) { return l->mixed_bfloat16(); });
}

void warn_if_bf16_is_emulated(const Model& model) {
  if (uses_bf16(model) && !mixed_precision::has_native_bfloat16())
    std::cerr << "kiln: warning: this CPU has no AVX512_BF16: bf16 products are computed as float32 "
                 "FMAs on the rounded operands (the same results, but slower than float32)\n";
}

}  // namespace kiln::cli
