// The user's own images: a folder with one sub-folder per class, loaded as Keras's
// keras.utils.image_dataset_from_directory loads it.
#pragma once

#include <array>
#include <optional>

#include "kiln/data/dataset.hpp"
#include "kiln/datasets/dataset.hpp"
#include "kiln/trainer.hpp"

namespace kiln::datasets {

struct ImageFolderOptions {
  std::string labels = "inferred";  // "inferred" (from the sub-folders) or "" (none, Keras's None)
  std::string label_mode =
      "int";  // "int", "categorical" (one-hot), "binary" (2 classes) or "" (none)
  // The classes, in label order: sub-folders to take (a subset of them). Empty: every sub-folder,
  // in alphanumeric order.
  std::vector<std::string> class_names;
  std::string color_mode = "rgb";                  // "grayscale", "rgb" or "rgba"
  std::array<int64_t, 2> image_size = {256, 256};  // (height, width) every image is resized to
  bool shuffle = true;                             // else alphanumeric order, class by class
  // The shuffle's seed: the same seed gives the same order and split as Keras's (NumPy's
  // RandomState(seed).shuffle). Needed with a validation split.
  std::optional<uint32_t> seed;
  double validation_split = 0;             // the share of files held out, taken from the end
  std::string subset;                      // "training" or "validation" with validation_split
  std::string interpolation = "bilinear";  // "bilinear", "nearest" or "area"
  bool crop_to_aspect_ratio = false;       // crop the centre to the target's aspect ratio first
  bool follow_links = false;               // descend into symlinked folders
  // A file that cannot be read: "raise" (IoError naming it) or "skip" (left out; listed in
  // ImageFolder::skipped and counted in a warning).
  std::string on_error = "raise";
  bool verbose = true;  // "Found N files belonging to K classes." on standard output
};

struct ImageFolder {
  ByteTensor images;  // (N, height, width, channels) uint8: resized values rounded
  Labels labels;      // int labels, one-hot (N, K) or (N, 1) floats, or none, as label_mode says
  std::vector<std::string> class_names;
  std::vector<std::filesystem::path> file_paths;  // the order of the images
  std::vector<std::string> skipped;               // "path: why", with on_error "skip"
};

// The files image_dataset_from_directory takes, in its order (shuffled for the seed), and their
// classes: what the in-memory and the streaming loaders read.
struct ImageFiles {
  std::vector<std::filesystem::path> paths;
  std::vector<int32_t> labels;  // each file's class (empty with labels "")
  std::vector<std::string> class_names;
};
// The listing and the split of image_dataset_from_directory (subset "training", "validation"
// or none), with its messages and errors, without reading an image.
ImageFiles list_image_files(const std::filesystem::path& directory, const ImageFolderOptions& options);

// Finds the images (.png, .jpg, .jpeg, .bmp, .gif in any case, in every sub-folder of each class
// folder), shuffles them, takes the subset, and decodes and resizes them on the library's
// threads (io::decode_image: PNG, JPEG, BMP, a GIF's first frame).
// Argument errors throw ValueError as Keras's do; a folder with no images throws IoError.
ImageFolder image_dataset_from_directory(const std::filesystem::path& directory,
                                         const ImageFolderOptions& options = {});
// subset "both": (training, validation).
std::pair<ImageFolder, ImageFolder> image_datasets_from_directory(
    const std::filesystem::path& directory, ImageFolderOptions options);

// The same images as a pipeline that decodes each file when a batch needs it, on the
// pipeline's threads: for folders larger than memory, and to decode while the model trains.
// Unbatched, in image_dataset_from_directory's order; chain .cache(), .shuffle(), .batch(),
// .prefetch() as with tf.data. Labels as label_mode says (int, or one-hot / 0-1 float
// targets). A file that cannot be read throws IoError naming it when its batch is built, or
// with on_error "skip" is left out of its batch (named in one warning on standard error).
data::Dataset image_pipeline_from_directory(const std::filesystem::path& directory,
                                            const ImageFolderOptions& options = {});
// A pipeline over files already listed (a part of list_image_files' list, say), decoded as
// `options` says.
data::Dataset image_files_dataset(ImageFiles files, const ImageFolderOptions& options);

// One image file decoded to `channels` (1, 3 or 4), cropped to the aspect ratio if asked, and
// resized to (height, width): what image_dataset_from_directory does to each file, for a model
// to predict on. Throws IoError naming the file when it cannot be read.
ByteTensor load_image(const std::filesystem::path& path, std::array<int64_t, 2> size,
                      int64_t channels, const std::string& interpolation = "bilinear",
                      bool crop_to_aspect_ratio = false);
// Whether a file name has one of the extensions image_dataset_from_directory takes.
bool is_image_file_name(const std::filesystem::path& path);

// NumPy's RandomState(seed).shuffle order of n items: item order[i] goes to place i.
std::vector<int64_t> numpy_shuffle_order(int64_t n, uint32_t seed);

}  // namespace kiln::datasets
