// The IDX reader on generated files, good and malformed, plain and gzip-compressed.
#include <zlib.h>

#include "helpers.hpp"

namespace kiln {
namespace {

std::string idx(uint8_t type, std::vector<uint32_t> dims, size_t data_bytes) {
  std::string s = {0, 0, static_cast<char>(type), static_cast<char>(dims.size())};
  for (uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) s += static_cast<char>((d >> shift) & 0xff);
  for (size_t i = 0; i < data_bytes; ++i) s += static_cast<char>(i % 251);
  return s;
}

void write_gz(const std::filesystem::path& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

void expect_idx_error(const std::filesystem::path& path, const std::string& reason) {
  try {
    datasets::read_idx(path);
    FAIL() << "read a malformed IDX file; expected: " << reason;
  } catch (const IoError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find(path.string()), std::string::npos) << msg;
    EXPECT_NE(msg.find(reason), std::string::npos) << "expected '" << reason << "' in: " << msg;
  }
}

TEST(Idx, ReadsPlainAndGzipFiles) {
  testing::TempDir dir;
  std::string images = idx(0x08, {3, 2, 4}, 24);
  testing::write_bytes(dir / "plain", images);
  write_gz(dir / "images.gz", images);
  for (const char* name : {"plain", "images.gz"}) {
    ByteTensor t = datasets::read_idx(dir / name);
    EXPECT_EQ(t.shape(), (Shape{3, 2, 4})) << name;
    EXPECT_EQ(t[23], 23) << name;
  }
}

TEST(Idx, MalformedFilesNameTheFileAndTheProblem) {
  testing::TempDir dir;
  auto p = [&](const char* n) { return dir / n; };
  testing::write_bytes(p("magic"), "\x01\x02\x08\x01" + std::string(8, '\0'));
  expect_idx_error(p("magic"), "magic number starts with bytes 1, 2");
  testing::write_bytes(p("type"), idx(0x0D, {2}, 8));
  expect_idx_error(p("type"), "value type 0x0d is not supported");
  testing::write_bytes(p("rank"), idx(0x08, {}, 0));
  expect_idx_error(p("rank"), "rank 0");
  testing::write_bytes(p("short_header"), idx(0x08, {10, 28, 28}, 0).substr(0, 9));
  expect_idx_error(p("short_header"), "truncated");
  write_gz(p("short_data.gz"), idx(0x08, {10, 28, 28}, 7000));
  expect_idx_error(p("short_data.gz"), "the data needs 7840 bytes, the file ends after 7000");
  testing::write_bytes(p("trailing"), idx(0x08, {4}, 6));
  expect_idx_error(p("trailing"), "trailing data");
  // Dimensions whose product wraps a 64-bit count to 0 (2^16 * 2^18 * 2^30 = 2^64).
  testing::write_bytes(p("wraps"), idx(0x08, {65536, 262144, 1u << 30}, 16));
  expect_idx_error(p("wraps"), "[65536, 262144, 1073741824] describe more than 16 GiB");
  testing::write_bytes(p("huge"), idx(0x08, {4294967295u, 4294967295u}, 16));
  expect_idx_error(p("huge"), "describe more than 16 GiB");
  // A billion bytes claimed by a 16-byte file is refused before anything is allocated.
  testing::write_bytes(p("claims"), idx(0x08, {1000, 1000, 1000}, 16));
  expect_idx_error(p("claims"), "the data needs 1000000000 bytes, the file ends after 16");
  write_gz(p("claims.gz"), idx(0x08, {1000, 1000, 1000}, 16));
  expect_idx_error(p("claims.gz"), "describe 1000000000 bytes, more than a gzip file of");
  testing::write_bytes(p("empty"), "");
  expect_idx_error(p("empty"), "truncated");
  expect_idx_error(p("missing"), "cannot open");

  // A gzip stream cut in half, and one with its compressed bytes scrambled.
  write_gz(p("whole.gz"), idx(0x08, {100, 28, 28}, 78400));
  std::string gz = io::read_file(p("whole.gz"));
  testing::write_bytes(p("cut.gz"), gz.substr(0, gz.size() / 2));
  expect_idx_error(p("cut.gz"), "");
  std::string scrambled = gz;
  for (size_t i = 30; i < 200; ++i) scrambled[i] = static_cast<char>(scrambled[i] ^ 0xff);
  testing::write_bytes(p("scrambled.gz"), scrambled);
  expect_idx_error(p("scrambled.gz"), "gzip error");
}

TEST(Idx, FolderWithDisagreeingCountsIsRejected) {
  testing::TempDir dir;
  write_gz(dir / "train-images-idx3-ubyte.gz", idx(0x08, {5, 28, 28}, 5 * 784));
  write_gz(dir / "train-labels-idx1-ubyte.gz", idx(0x08, {4}, 4));
  write_gz(dir / "t10k-images-idx3-ubyte.gz", idx(0x08, {2, 28, 28}, 2 * 784));
  write_gz(dir / "t10k-labels-idx1-ubyte.gz", idx(0x08, {2}, 2));
  try {
    datasets::load_idx_folder(dir.path());
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("holds 5 images but"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("holds 4 labels"), std::string::npos) << e.what();
  }
  write_gz(dir / "train-labels-idx1-ubyte.gz", idx(0x08, {5}, 5));
  auto [train, test] = datasets::load_idx_folder(dir.path());
  EXPECT_EQ(train.images.shape(), (Shape{5, 28, 28}));
  EXPECT_EQ(test.labels.shape(), (Shape{2}));
}

TEST(Idx, MnistLoaderReadsGeneratedFilesFromKilnDatasets) {
  testing::TempDir dir;
  auto mnist = dir / "mnist";
  std::filesystem::create_directories(mnist);
  write_gz(mnist / "train-images-idx3-ubyte.gz", idx(0x08, {6, 28, 28}, 6 * 784));
  write_gz(mnist / "train-labels-idx1-ubyte.gz", idx(0x08, {6}, 6));
  write_gz(mnist / "t10k-images-idx3-ubyte.gz", idx(0x08, {3, 28, 28}, 3 * 784));
  write_gz(mnist / "t10k-labels-idx1-ubyte.gz", idx(0x08, {3}, 3));
  setenv("KILN_DATASETS", dir.path().c_str(), 1);
  auto [train, test] = datasets::mnist::load_data();
  unsetenv("KILN_DATASETS");
  EXPECT_EQ(train.images.shape(), (Shape{6, 28, 28}));
  EXPECT_EQ(test.images.shape(), (Shape{3, 28, 28}));
  EXPECT_EQ(train.labels[5], 5);
  EXPECT_EQ(datasets::mnist::class_names().size(), 10u);
}

}  // namespace
}  // namespace kiln
