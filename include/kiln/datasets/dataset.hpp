// Image classification datasets as uint8 tensors, found on disk or downloaded once.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kiln/tensor.hpp"

namespace kiln::datasets {

// One split: images (N, H, W) or (N, H, W, C) and labels (N), both uint8.
struct Split {
  ByteTensor images;
  ByteTensor labels;
};

// A named dataset with both splits and its class names, for code that picks one by name.
struct Dataset {
  std::string name;
  Split train, test;
  std::vector<std::string> class_names;
};

// "fashion-mnist", "mnist", "cifar10", "cifar100" (fine labels) or "cifar100-coarse", in any
// case, with "_" for "-" or "cifar-10" for "cifar10" too; throws ValueError on other names.
Dataset load(const std::string& name);
// The names load() accepts.
std::vector<std::string> names();

// Reads an IDX file (gzip-compressed or plain) of unsigned bytes. Throws IoError naming the
// file and the problem: wrong magic number, unsupported type, truncation, trailing data, gzip
// errors.
ByteTensor read_idx(const std::filesystem::path& path);

// A remote file and its SHA-256, for the download fallback.
struct RemoteFile {
  std::string name;
  std::string sha256;
};

// Where a dataset's files are looked for, and fetched from when they are nowhere.
struct Source {
  std::string folder;                // its folder under $KILN_DATASETS and ~/.kiln/datasets
  std::vector<RemoteFile> files;     // all of them are needed
  std::filesystem::path system_dir;  // where a Debian package installs it
  std::string url;                   // the public mirror; $KILN_DATASETS_URL overrides it
};

// The first of $KILN_DATASETS/<folder>, ~/.kiln/datasets/<folder> and system_dir that holds all
// the files, if any.
std::optional<std::filesystem::path> find_local(const Source& source);
// find_local's folder; otherwise downloads the files from $KILN_DATASETS_URL (or source.url)
// into ~/.kiln/datasets/<folder> ($KILN_DATASETS/<folder> when set), checking each file's
// SHA-256 before moving it into place.
std::filesystem::path locate(const Source& source);

// What a dataset is, without loading it: for `kiln datasets list`.
struct Info {
  std::string name;  // as load() takes it
  std::string description;
  Shape image_shape;  // one image: (H, W) or (H, W, C)
  int64_t train_size = 0, test_size = 0;
  int64_t num_classes = 0;
  Source source;
};
std::vector<Info> catalogue();

// Downloads url to dest, atomically, if its SHA-256 matches; throws IoError otherwise.
void download(const std::string& url, const std::filesystem::path& dest, const std::string& sha256);

// Loads train-images/labels-idx*-ubyte.gz and t10k-* from a folder, checking they agree.
std::pair<Split, Split> load_idx_folder(const std::filesystem::path& dir);

}  // namespace kiln::datasets
