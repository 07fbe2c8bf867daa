// Image classification datasets as uint8 tensors, found on disk or downloaded once.
#pragma once

#include <filesystem>
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

// "fashion-mnist" or "mnist" (underscores work too); throws ValueError on other names.
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

// The folder holding all `files` of dataset `name`: the first of $KILN_DATASETS/<name>,
// ~/.kiln/datasets/<name> and `system_dir` that has them all; otherwise downloads them from
// $KILN_DATASETS_URL (or `default_url`) into ~/.kiln/datasets/<name> (under $KILN_DATASETS when
// set), checking each file's SHA-256 before moving it into place.
std::filesystem::path locate(const std::string& name, const std::vector<RemoteFile>& files,
                             const std::filesystem::path& system_dir, const std::string& default_url);

// Downloads url to dest, atomically, if its SHA-256 matches; throws IoError otherwise.
void download(const std::string& url, const std::filesystem::path& dest, const std::string& sha256);

// Loads train-images/labels-idx*-ubyte.gz and t10k-* from a folder, checking they agree.
std::pair<Split, Split> load_idx_folder(const std::filesystem::path& dir);

}  // namespace kiln::datasets
