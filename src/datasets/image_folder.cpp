// image_dataset_from_directory: index the class folders as Keras does (sorted sub-folders, files
// sorted within each folder, NumPy's shuffle for the seed, the validation split from the end),
// then decode and resize every image on the thread pool.
#include "kiln/datasets/image_folder.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <iostream>
#include <random>

#include "kernels/cpu/thread_pool.hpp"
#include "kiln/io.hpp"

namespace kiln::datasets {

namespace fs = std::filesystem;

namespace {

constexpr uint64_t kMaxFileBytes = uint64_t{1} << 28;
const char* const kFormats = ".bmp, .gif, .jpeg, .jpg, .png";

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return "[" + out + "]";
}

int64_t channels_of(const std::string& color_mode) {
  if (color_mode == "grayscale") return 1;
  if (color_mode == "rgb") return 3;
  if (color_mode == "rgba") return 4;
  throw ValueError("color_mode must be one of \"rgb\", \"rgba\", \"grayscale\"; received \"" +
                   color_mode + "\"");
}

void check(const ImageFolderOptions& o) {
  if (o.labels != "inferred" && !o.labels.empty())
    throw ValueError("labels must be \"inferred\" or empty (no labels); received \"" + o.labels +
                     "\"");
  if (o.labels.empty() && !o.class_names.empty())
    throw ValueError("class_names can only be given with labels \"inferred\"");
  if (o.label_mode != "int" && o.label_mode != "categorical" && o.label_mode != "binary" &&
      !o.label_mode.empty())
    throw ValueError(
        "label_mode must be one of \"int\", \"categorical\", \"binary\" or empty; received \"" +
        o.label_mode + "\"");
  channels_of(o.color_mode);
  if (o.image_size[0] < 1 || o.image_size[1] < 1)
    throw ValueError("image_size must be two positive integers; received (" +
                     std::to_string(o.image_size[0]) + ", " + std::to_string(o.image_size[1]) +
                     ")");
  if (o.interpolation != "bilinear" && o.interpolation != "nearest" && o.interpolation != "area")
    throw ValueError(
        "interpolation must be one of \"bilinear\", \"nearest\", \"area\" (kiln's); received \"" +
        o.interpolation + "\"");
  if (o.validation_split != 0 && !(o.validation_split > 0 && o.validation_split < 1))
    throw ValueError("validation_split must be between 0 and 1; received " +
                     std::to_string(o.validation_split));
  if ((o.validation_split != 0) != !o.subset.empty())
    throw ValueError("if subset is set, validation_split must be set, and inversely");
  if (!o.subset.empty() && o.subset != "training" && o.subset != "validation" && o.subset != "both")
    throw ValueError("subset must be either \"training\", \"validation\" or \"both\"; received \"" +
                     o.subset + "\"");
  if (o.validation_split != 0 && o.shuffle && !o.seed)
    throw ValueError(
        "if using validation_split and shuffling the data, you must provide a seed, to make sure "
        "that "
        "there is no overlap between the training and validation subset");
  if (o.on_error != "raise" && o.on_error != "skip")
    throw ValueError("on_error must be \"raise\" or \"skip\"; received \"" + o.on_error + "\"");
}

// Image files under `dir`, every folder's sorted by name, the folders in path order.
std::vector<fs::path> image_files(const fs::path& dir, bool follow_links) {
  std::vector<std::pair<std::string, std::string>> found;
  auto how = fs::directory_options::skip_permission_denied;
  if (follow_links) how |= fs::directory_options::follow_directory_symlink;
  std::error_code ec;
  // With links followed, a link to a folder above it (a cycle) is not entered: the folders on
  // the way down, by device and inode, root first.
  std::vector<std::pair<dev_t, ino_t>> above;
  auto identity = [](const fs::path& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 ? std::pair{st.st_dev, st.st_ino} : std::pair<dev_t, ino_t>{0, 0};
  };
  if (follow_links) above.push_back(identity(dir));
  for (fs::recursive_directory_iterator it(dir, how, ec), end; !ec && it != end; it.increment(ec)) {
    if (it.depth() > 64)
      throw IoError("'" + it->path().string() + "' is nested more than 64 folders deep");
    std::error_code entry_ec;  // a dangling link is neither a folder nor an image; the listing goes on
    if (follow_links && it->is_directory(entry_ec)) {
      above.resize(static_cast<size_t>(it.depth()) + 1);  // this entry's folder and those above it
      const auto id = identity(it->path());
      if (std::find(above.begin(), above.end(), id) != above.end())
        it.disable_recursion_pending();
      else
        above.push_back(id);
      continue;
    }
    if (is_image_file_name(it->path()) && !it->is_directory(entry_ec))
      found.emplace_back(it->path().parent_path().string(), it->path().filename().string());
  }
  if (ec) throw IoError("cannot list '" + dir.string() + "': " + ec.message());
  std::sort(found.begin(), found.end());
  std::vector<fs::path> files;
  for (const auto& [root, name] : found) files.push_back(fs::path(root) / name);
  return files;
}

ImageFiles index_directory(const fs::path& dir, const ImageFolderOptions& o) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw IoError("'" + dir.string() + "' is not a folder");
  ImageFiles index;
  std::vector<std::string> subdirs;
  if (o.labels == "inferred") {
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      std::string name = e.path().filename().string();
      if (name[0] != '.' && fs::is_directory(e.path(), ec)) subdirs.push_back(name);
    }
    std::sort(subdirs.begin(), subdirs.end());
    if (!o.class_names.empty()) {
      for (const auto& c : o.class_names)
        if (!std::binary_search(subdirs.begin(), subdirs.end(), c))
          throw ValueError(
              "the class_names passed did not match the names of the sub-folders of '" +
              dir.string() + "'. Expected: " + joined(subdirs) +
              " (or a subset of it), but received: class_names=" + joined(o.class_names));
      subdirs = o.class_names;
    }
    index.class_names = subdirs;
  } else {
    subdirs = {""};
  }
  for (size_t c = 0; c < subdirs.size(); ++c)
    for (auto& f : image_files(subdirs[c].empty() ? dir : dir / subdirs[c], o.follow_links)) {
      index.paths.push_back(std::move(f));
      index.labels.push_back(static_cast<int32_t>(c));
    }
  if (o.verbose) {
    if (o.labels.empty())
      std::cout << "Found " << index.paths.size() << " files.\n";
    else
      std::cout << "Found " << index.paths.size() << " files belonging to "
                << index.class_names.size() << " classes.\n";
  }
  if (o.shuffle) {
    const uint32_t seed = o.seed ? *o.seed : std::random_device{}() % 1000000;
    std::vector<int64_t> order =
        numpy_shuffle_order(static_cast<int64_t>(index.paths.size()), seed);
    ImageFiles shuffled{{}, {}, index.class_names};
    for (int64_t i : order) {
      shuffled.paths.push_back(index.paths[i]);
      shuffled.labels.push_back(index.labels[i]);
    }
    index = std::move(shuffled);
  }
  return index;
}

// The training or validation part of the index: the validation files are the last
// int(validation_split * N).
ImageFiles take_subset(const ImageFiles& all, const ImageFolderOptions& o, const std::string& subset) {
  if (o.validation_split == 0) return all;
  const auto n = static_cast<int64_t>(all.paths.size());
  const auto val = static_cast<int64_t>(o.validation_split * static_cast<double>(n));
  const bool training = subset == "training";
  const int64_t begin = training ? 0 : n - val, end = training ? n - val : n;
  if (o.verbose) std::cout << "Using " << end - begin << " files for " << subset << ".\n";
  return {{all.paths.begin() + begin, all.paths.begin() + end},
          {all.labels.begin() + begin, all.labels.begin() + end},
          all.class_names};
}

void require_images(const ImageFiles& index, const fs::path& dir) {
  if (index.paths.empty())
    throw ValueError("no images found in directory '" + dir.string() + "'. Allowed formats: " + kFormats);
}

ImageFolder load(const ImageFiles& index, const ImageFolderOptions& o, const fs::path& dir) {
  require_images(index, dir);
  const int64_t channels = channels_of(o.color_mode);
  const auto n = static_cast<int64_t>(index.paths.size());
  const int64_t image_bytes = o.image_size[0] * o.image_size[1] * channels;
  ByteTensor images({n, o.image_size[0], o.image_size[1], channels});
  std::vector<std::string> errors(static_cast<size_t>(n));
  cpu::ThreadPool::global().run_ranges(n, 8, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      try {
        ByteTensor image = load_image(index.paths[i], o.image_size, channels, o.interpolation,
                                      o.crop_to_aspect_ratio);
        std::copy_n(image.data(), image_bytes, images.data() + i * image_bytes);
      } catch (const Error& e) {
        errors[i] = e.what();
      }
    }
  });
  ImageFolder out;
  out.class_names = index.class_names;
  std::vector<int64_t> kept;
  for (int64_t i = 0; i < n; ++i) {
    if (errors[i].empty()) {
      kept.push_back(i);
      continue;
    }
    if (o.on_error == "raise")
      throw IoError(errors[i] + " (on_error \"skip\" leaves such files out)");
    out.skipped.push_back(errors[i]);
  }
  if (kept.empty())
    throw IoError("none of the " + std::to_string(n) + " images in '" + dir.string() +
                  "' could be read; the first: " + errors[0]);
  if (!out.skipped.empty())
    std::cerr << "Warning: skipped " << out.skipped.size() << " of " << n
              << " files that could not be read; the first: " << out.skipped[0] << '\n';
  const auto m = static_cast<int64_t>(kept.size());
  std::vector<int32_t> labels;
  if (m == n) {  // the usual case: every file read, nothing to copy
    out.images = std::move(images);
    out.file_paths = index.paths;
    labels = index.labels;
  } else {
    out.images = ByteTensor({m, o.image_size[0], o.image_size[1], channels});
    for (int64_t j = 0; j < m; ++j) {
      std::copy_n(images.data() + kept[j] * image_bytes, image_bytes,
                  out.images.data() + j * image_bytes);
      out.file_paths.push_back(index.paths[kept[j]]);
      if (!index.labels.empty()) labels.push_back(index.labels[kept[j]]);
    }
  }
  if (o.labels.empty() || o.label_mode.empty()) return out;
  const auto classes = static_cast<int64_t>(out.class_names.size());
  if (o.label_mode == "int") {
    out.labels = Labels(std::move(labels));
  } else {
    const bool binary = o.label_mode == "binary";
    Tensor t(binary ? Shape{m, 1} : Shape{m, classes});  // zeros
    for (int64_t j = 0; j < m; ++j) {
      if (binary)
        t.data()[j] = static_cast<float>(labels[j]);
      else
        t.data()[j * classes + labels[j]] = 1.0f;
    }
    out.labels = Labels(std::move(t));
  }
  return out;
}

void check_binary(const ImageFiles& index, const ImageFolderOptions& o) {
  if (o.label_mode == "binary" && !o.labels.empty() && index.class_names.size() != 2)
    throw ValueError(
        "with label_mode \"binary\" there must be exactly 2 classes; received class_names=" +
        joined(index.class_names));
}

}  // namespace

bool is_image_file_name(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return ext == ".bmp" || ext == ".gif" || ext == ".jpeg" || ext == ".jpg" || ext == ".png";
}

ByteTensor load_image(const fs::path& path, std::array<int64_t, 2> size, int64_t channels,
                      const std::string& interpolation, bool crop) {
  std::error_code ec;
  const uint64_t bytes = fs::file_size(path, ec);
  if (ec) throw IoError(path.string() + ": cannot read: " + ec.message());
  if (bytes > kMaxFileBytes)
    throw IoError(path.string() + ": " + std::to_string(bytes) + " bytes, more than the " +
                  std::to_string(kMaxFileBytes) + " kiln reads for one image");
  return io::prepare_image(io::read_file(path), path.string(), size[0], size[1], channels, interpolation, crop);
}

std::vector<int64_t> numpy_shuffle_order(int64_t n, uint32_t seed) {
  // RandomState(seed) seeds MT19937 as std::mt19937(seed) does; shuffle swaps item i with a
  // draw in [0, i], i from the end, each draw the low bits of 32-bit outputs under the smallest
  // mask covering i, retried while above i.
  std::mt19937 mt(seed);
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  for (int64_t i = n - 1; i >= 1; --i) {
    uint64_t mask = static_cast<uint64_t>(i);
    for (int s = 1; s < 64; s <<= 1) mask |= mask >> s;
    uint64_t j;
    do j = mt() & mask;
    while (j > static_cast<uint64_t>(i));
    std::swap(order[i], order[j]);
  }
  return order;
}

ImageFiles list_image_files(const fs::path& directory, const ImageFolderOptions& options) {
  check(options);
  if (options.subset == "both")
    throw ValueError("subset \"both\" gives two datasets: call image_datasets_from_directory");
  ImageFiles index = index_directory(directory, options);
  check_binary(index, options);
  index = take_subset(index, options, options.subset);
  require_images(index, directory);
  return index;
}

ImageFolder image_dataset_from_directory(const fs::path& directory,
                                         const ImageFolderOptions& options) {
  return load(list_image_files(directory, options), options, directory);
}

data::Dataset image_files_dataset(ImageFiles files, const ImageFolderOptions& o) {
  check(o);
  const int64_t channels = channels_of(o.color_mode);
  const auto n = static_cast<int64_t>(files.paths.size());
  const auto classes = static_cast<int64_t>(files.class_names.size());
  const bool labelled = !o.labels.empty() && !o.label_mode.empty();
  if (labelled) {
    if (static_cast<int64_t>(files.labels.size()) != n)
      throw ValueError("image_files_dataset: " + std::to_string(n) + " files but " +
                       std::to_string(files.labels.size()) + " labels");
    for (size_t i = 0; i < files.labels.size(); ++i)
      if (files.labels[i] < 0 || files.labels[i] >= classes)
        throw ValueError("image_files_dataset: '" + files.paths[i].string() + "' has label " +
                         std::to_string(files.labels[i]) + ", outside the " + std::to_string(classes) + " classes");
  }
  // The files and their labels, in order, identify the data (a cache file of another seed's
  // order or split is not taken for this one): FNV-1a over them.
  uint64_t digest = 0xcbf29ce484222325ull;
  auto mix = [&digest](const std::string& text) {
    for (unsigned char c : text) digest = (digest ^ c) * 0x100000001b3ull;
    digest = (digest ^ 0xff) * 0x100000001b3ull;
  };
  for (int64_t i = 0; i < n; ++i) {
    mix(files.paths[i].string());
    if (labelled) mix(std::to_string(files.labels[i]));
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(digest));
  std::string name = "images(" + std::to_string(n) + " files from '" + (n ? files.paths[0].parent_path().string() : "") +
                     "' " + hex + ", " + std::to_string(o.image_size[0]) + "x" + std::to_string(o.image_size[1]) + " " +
                     o.color_mode + ", " + o.interpolation + (o.crop_to_aspect_ratio ? ", cropped" : "") +
                     ", labels " + (o.labels.empty() ? "none" : o.label_mode) + ")";
  // A file skipped is named once, however many epochs meet it.
  auto warned = std::make_shared<std::vector<std::atomic<bool>>>(static_cast<size_t>(n));
  auto shared = std::make_shared<const ImageFiles>(std::move(files));
  return data::Dataset::from_function(
      n,
      [shared, warned, o, channels, classes, labelled](int64_t i, data::Example& e) {
        const ImageFiles& f = *shared;
        try {
          e.x.emplace_back(load_image(f.paths[i], o.image_size, channels, o.interpolation, o.crop_to_aspect_ratio));
        } catch (const Error& error) {
          if (o.on_error == "raise") throw IoError(std::string(error.what()) + " (on_error \"skip\" leaves such files out)");
          if (!(*warned)[i].exchange(true)) std::cerr << "Warning: skipped " << error.what() << '\n';
          return false;
        }
        if (!labelled) return true;
        const int32_t label = f.labels[i];
        if (o.label_mode == "int") {
          e.label = label;
        } else if (o.label_mode == "binary") {
          e.target = Tensor({1}, {static_cast<float>(label)});
        } else {
          e.target = Tensor({classes});
          e.target[label] = 1.0f;
        }
        return true;
      },
      name, false, labelled);
}

data::Dataset image_pipeline_from_directory(const fs::path& directory, const ImageFolderOptions& options) {
  return image_files_dataset(list_image_files(directory, options), options);
}

std::pair<ImageFolder, ImageFolder> image_datasets_from_directory(const fs::path& directory,
                                                                  ImageFolderOptions options) {
  if (options.subset.empty()) options.subset = "both";
  check(options);
  if (options.subset != "both")
    throw ValueError("image_datasets_from_directory takes subset \"both\"");
  ImageFiles index = index_directory(directory, options);
  check_binary(index, options);
  ImageFolder train = load(take_subset(index, options, "training"), options, directory);
  return {std::move(train), load(take_subset(index, options, "validation"), options, directory)};
}

}  // namespace kiln::datasets
