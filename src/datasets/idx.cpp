// IDX files (the MNIST format): a 4-byte magic number 0x00 0x00 <type> <rank>, then <rank>
// big-endian uint32 dimensions, then the values, row-major. kiln reads type 0x08 (unsigned
// byte), gzip-compressed or plain.
#include <zlib.h>

#include <cstdio>
#include <memory>

#include "kiln/datasets/dataset.hpp"

namespace kiln::datasets {

namespace {

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};

// Reads exactly n bytes or throws: a short read is truncation, -1 a gzip error.
void read_exact(gzFile f, void* dst, size_t n, const std::string& file, const char* what) {
  auto* p = static_cast<unsigned char*>(dst);
  size_t got = 0;
  while (got < n) {
    unsigned chunk = static_cast<unsigned>(std::min<size_t>(n - got, 1u << 30));
    int r = gzread(f, p + got, chunk);
    if (r < 0) {
      int err;
      const char* msg = gzerror(f, &err);
      throw IoError(file + ": gzip error while reading the " + what + ": " + msg);
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  if (got != n)
    throw IoError(file + ": truncated: the " + std::string(what) + " needs " + std::to_string(n) +
                  " bytes, the file ends after " + std::to_string(got));
}

}  // namespace

ByteTensor read_idx(const std::filesystem::path& path) {
  const std::string file = path.string();
  std::unique_ptr<gzFile_s, GzCloser> f(gzopen(file.c_str(), "rb"));
  if (!f) throw IoError(file + ": cannot open for reading");
  unsigned char magic[4];
  read_exact(f.get(), magic, 4, file, "magic number");
  if (magic[0] != 0 || magic[1] != 0)
    throw IoError(file + ": not an IDX file: magic number starts with bytes " +
                  std::to_string(magic[0]) + ", " + std::to_string(magic[1]) + ", expected 0, 0");
  if (magic[2] != 0x08) {
    char type[8];
    std::snprintf(type, sizeof type, "0x%02x", magic[2]);
    throw IoError(file + ": IDX value type " + type + " is not supported; expected 0x08 (unsigned byte)");
  }
  int rank = magic[3];
  if (rank < 1 || rank > 4)
    throw IoError(file + ": IDX rank " + std::to_string(rank) + " is not supported; expected 1 to 4");
  Shape shape;
  uint64_t total = 1;
  for (int i = 0; i < rank; ++i) {
    unsigned char b[4];
    read_exact(f.get(), b, 4, file, "dimensions");
    uint64_t d = (uint64_t{b[0]} << 24) | (uint64_t{b[1]} << 16) | (uint64_t{b[2]} << 8) | b[3];
    shape.push_back(static_cast<int64_t>(d));
  }
  // Checked before anything is allocated, the product of every dimension at once: multiplying
  // as they are read and checking after each step let 65536 x 262144 x 2^30 wrap to 0.
  constexpr uint64_t kMaxBytes = uint64_t{1} << 34;
  for (int64_t d : shape)
    if (__builtin_mul_overflow(total, static_cast<uint64_t>(d), &total) || total > kMaxBytes)
      throw IoError(file + ": IDX dimensions " + shape_str(shape) +
                    " describe more than 16 GiB of data");
  // Nor more than the file can hold, so that a 20-byte header cannot claim gigabytes: a plain
  // file holds the values themselves, and deflate expands data at most 1032 times.
  std::error_code ec;
  const uint64_t file_bytes = std::filesystem::file_size(path, ec);
  if (!ec) {
    const uint64_t header = 4 + 4 * static_cast<uint64_t>(rank);
    if (gzdirect(f.get()) && total > file_bytes - header)
      throw IoError(file + ": truncated: the data needs " + std::to_string(total) + " bytes, the file ends after " +
                    std::to_string(file_bytes - header));
    if (!gzdirect(f.get()) && total / 1032 > file_bytes)
      throw IoError(file + ": IDX dimensions " + shape_str(shape) + " describe " + std::to_string(total) +
                    " bytes, more than a gzip file of " + std::to_string(file_bytes) + " bytes can hold");
  }
  ByteTensor t(shape);
  read_exact(f.get(), t.data(), static_cast<size_t>(total), file, "data");
  unsigned char extra;
  int r = gzread(f.get(), &extra, 1);
  if (r < 0) read_exact(f.get(), &extra, 1, file, "end of the data");
  if (r > 0)
    throw IoError(file + ": trailing data after the " + std::to_string(total) +
                  " bytes its dimensions " + shape_str(shape) + " describe");
  return t;
}

std::pair<Split, Split> load_idx_folder(const std::filesystem::path& dir) {
  auto load = [&](const char* prefix) {
    auto images_path = dir / (std::string(prefix) + "-images-idx3-ubyte.gz");
    auto labels_path = dir / (std::string(prefix) + "-labels-idx1-ubyte.gz");
    Split s{read_idx(images_path), read_idx(labels_path)};
    if (s.images.rank() != 3)
      throw IoError(images_path.string() + ": expected images of rank 3 (N, rows, cols), received shape " +
                    shape_str(s.images.shape()));
    if (s.labels.rank() != 1)
      throw IoError(labels_path.string() + ": expected labels of rank 1 (N), received shape " +
                    shape_str(s.labels.shape()));
    if (s.images.dim(0) != s.labels.dim(0))
      throw IoError(images_path.string() + " holds " + std::to_string(s.images.dim(0)) + " images but " +
                    labels_path.string() + " holds " + std::to_string(s.labels.dim(0)) + " labels");
    return s;
  };
  return {load("train"), load("t10k")};
}

}  // namespace kiln::datasets
