// Writing a dataset out as an image folder, the layout image_dataset_from_directory reads.
#pragma once

#include <functional>

#include "kiln/datasets/dataset.hpp"

namespace kiln::datasets {

struct ExportOptions {
  std::string format = "png";  // "png" (lossless) or "jpeg"
  int quality = 95;            // JPEG quality, 1 to 100
  // Called from the calling thread as images are written: (written so far, total).
  std::function<void(int64_t, int64_t)> progress;
};

struct ExportSummary {
  int64_t images = 0;
  uint64_t bytes = 0;
};

// The folder name of class `label`: the label, zero-padded to the width of the largest one, an
// underscore and the class name with '/', '\' and spaces made '_' ("0_T-shirt_top"). Sorted
// alphanumerically, as image_dataset_from_directory sorts class folders, the names come back in
// label order, so a model trained on the folder and one trained in memory agree on labels.
std::string class_folder_name(int64_t label, const std::vector<std::string>& class_names);

// Writes dir/train/<class folder>/<index>.<png|jpg> and dir/test/..., where index is the image's
// position in its split, zero-padded. `dir` must not exist or be empty (IoError otherwise);
// images are encoded on the library's threads. Throws IoError naming the file that could not be
// written (a full disk, a read-only folder).
ExportSummary export_image_folder(const Dataset& data, const std::filesystem::path& dir,
                                  const ExportOptions& options = {});

}  // namespace kiln::datasets
