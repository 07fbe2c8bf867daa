// A folder of images as image_dataset_from_directory reads it: the file and folder names, their
// nesting, symbolic links (loops included) and unreadable files, with the options picked by the
// first byte. The rest is one entry per line:
//   a/b/c.png   a file (a tiny PNG when its name says it is an image);  !a/b.png  a file of garbage
//   a/b/        a folder;  @a/link>target  a symbolic link to `target` (relative, no "..").
// Each listing is then loaded (images resized to 3x3).
#include <fstream>
#include <sstream>

#include "fuzz_support.hpp"
#include "kiln/datasets/image_folder.hpp"
#include "kiln/io.hpp"

namespace {

namespace fs = std::filesystem;

// The line's path inside the folder, or empty for one that would leave it.
fs::path inside(const std::string& line) {
  fs::path out;
  std::stringstream parts(line);
  std::string part;
  int depth = 0;
  while (std::getline(parts, part, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == ".." || part.size() > 64 || ++depth > 6) return {};
    out /= part;
  }
  return out;
}

void make_tree(const fs::path& root, const std::string& text) {
  static const std::string png = [] {
    kiln::ByteTensor pixels({2, 2, 1});
    for (int i = 0; i < 4; ++i) pixels.data()[i] = static_cast<uint8_t>(60 * i);
    return kiln::io::encode_png(pixels);
  }();
  std::stringstream lines(text);
  std::string line;
  for (int n = 0; n < 32 && std::getline(lines, line); ++n) {
    std::error_code ec;
    if (line.starts_with('@')) {
      const auto arrow = line.find('>');
      if (arrow == std::string::npos) continue;
      const fs::path link = inside(line.substr(1, arrow - 1)), target = inside(line.substr(arrow + 1));
      if (link.empty()) continue;
      fs::create_directories(root / link.parent_path(), ec);
      fs::create_directory_symlink(target.empty() ? fs::path(".") : target, root / link, ec);
      continue;
    }
    const bool garbage = line.starts_with('!');
    const fs::path path = inside(garbage ? line.substr(1) : line);
    if (path.empty()) continue;
    if (line.ends_with('/')) {
      fs::create_directories(root / path, ec);
      continue;
    }
    fs::create_directories(root / path.parent_path(), ec);
    std::ofstream(root / path, std::ios::binary) << (garbage ? std::string("not an image") : png);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kiln::datasets;
  if (size == 0) return 0;
  const uint8_t pick = data[0];
  const kiln::fuzz::ScratchDir dir;
  make_tree(dir.path(), kiln::fuzz::bytes(data + 1, size - 1));
  static const char* const kLabelModes[] = {"int", "categorical", "binary", ""};
  ImageFolderOptions options{.labels = pick & 1 ? "inferred" : "",
                             .label_mode = kLabelModes[(pick >> 1) & 3],
                             .color_mode = pick & 8 ? "rgb" : "grayscale",
                             .image_size = {3, 3},
                             .shuffle = (pick & 16) != 0,
                             .seed = 7,
                             .follow_links = (pick & 32) != 0,
                             .on_error = pick & 64 ? "skip" : "raise",
                             .verbose = false};
  if (pick & 128) {
    options.validation_split = 0.5;
    options.subset = pick & 16 ? "validation" : "training";
  }
  kiln::fuzz::refused_or_read([&] { image_dataset_from_directory(dir.path(), options); });
  return 0;
}
