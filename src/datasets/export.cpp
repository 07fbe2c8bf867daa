// A dataset as a folder of image files, one sub-folder per class, encoded on the thread pool.
#include "kiln/datasets/export.hpp"

#include <cstdio>
#include <memory>

#include "kernels/cpu/thread_pool.hpp"
#include "kiln/io.hpp"

namespace kiln::datasets {

namespace fs = std::filesystem;

namespace {

std::string padded(int64_t value, int64_t largest) {
  std::string digits = std::to_string(value);
  const size_t width = std::to_string(std::max<int64_t>(largest, 0)).size();
  return std::string(width > digits.size() ? width - digits.size() : 0, '0') + digits;
}

void write_plain(const fs::path& path, const std::string& bytes) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!f) throw IoError("cannot create '" + path.string() + "'");
  const bool written = std::fwrite(bytes.data(), 1, bytes.size(), f.get()) == bytes.size();
  if (!written || std::fclose(f.release()) != 0)
    throw IoError("writing '" + path.string() + "' failed (is the disk full?)");
}

}  // namespace

std::string class_folder_name(int64_t label, const std::vector<std::string>& class_names) {
  if (label < 0 || label >= static_cast<int64_t>(class_names.size()))
    throw ValueError("class_folder_name: label " + std::to_string(label) + " is outside [0, " +
                     std::to_string(class_names.size()) + ")");
  std::string name = class_names[static_cast<size_t>(label)];
  for (char& c : name)
    if (c == '/' || c == '\\' || c == ' ') c = '_';
  return padded(label, static_cast<int64_t>(class_names.size()) - 1) + "_" + name;
}

ExportSummary export_image_folder(const Dataset& data, const fs::path& dir,
                                  const ExportOptions& options) {
  if (options.format != "png" && options.format != "jpeg")
    throw ValueError("export_image_folder: format must be \"png\" or \"jpeg\", received \"" +
                     options.format + "\"");
  if (options.quality < 1 || options.quality > 100)
    throw ValueError("export_image_folder: JPEG quality must be 1 to 100, received " +
                     std::to_string(options.quality));
  std::error_code ec;
  if (fs::exists(dir, ec) && !(fs::is_directory(dir, ec) && fs::is_empty(dir, ec)))
    throw IoError("'" + dir.string() +
                  "' exists and is not an empty folder; export writes into a new one");
  const std::string ext = options.format == "png" ? ".png" : ".jpg";
  const int64_t classes = static_cast<int64_t>(data.class_names.size());
  const int64_t total = data.train.images.dim(0) + data.test.images.dim(0);
  std::vector<std::string> folders;
  for (int64_t c = 0; c < classes; ++c) folders.push_back(class_folder_name(c, data.class_names));
  ExportSummary summary;
  for (const auto& part : {std::pair{"train", &data.train}, std::pair{"test", &data.test}}) {
    const std::string split_name = part.first;
    const Split* split = part.second;
    for (int64_t c = 0; c < classes; ++c) {
      fs::create_directories(dir / split_name / folders[static_cast<size_t>(c)], ec);
      if (ec) throw IoError("cannot create '" + (dir / split_name).string() + "': " + ec.message());
    }
    const ByteTensor& images = split->images;
    const int64_t n = images.dim(0);
    const Shape one(images.shape().begin() + 1, images.shape().end());
    const int64_t image_bytes = shape_size(one);
    // Blocks of images between progress reports; each block is split across the pool.
    constexpr int64_t kBlock = 2048;
    for (int64_t begin = 0; begin < n; begin += kBlock) {
      const int64_t end = std::min(n, begin + kBlock);
      std::vector<uint64_t> sizes(static_cast<size_t>(end - begin));
      cpu::ThreadPool::global().run_ranges(end - begin, 16, [&](int64_t lo, int64_t hi) {
        ByteTensor image(one);
        for (int64_t i = begin + lo; i < begin + hi; ++i) {
          const int64_t label = split->labels.data()[i];
          if (label >= classes)
            throw IoError("image " + std::to_string(i) + " of the " + split_name +
                          " split has label " + std::to_string(label) + ", but the dataset names " +
                          std::to_string(classes) + " classes");
          std::copy_n(images.data() + i * image_bytes, image_bytes, image.data());
          std::string bytes = options.format == "png" ? io::encode_png(image)
                                                      : io::encode_jpeg(image, options.quality);
          write_plain(
              dir / split_name / folders[static_cast<size_t>(label)] / (padded(i, n - 1) + ext),
              bytes);
          sizes[static_cast<size_t>(i - begin)] = bytes.size();
        }
      });
      for (uint64_t s : sizes) summary.bytes += s;
      summary.images += end - begin;
      if (options.progress) options.progress(summary.images, total);
    }
  }
  return summary;
}

}  // namespace kiln::datasets
