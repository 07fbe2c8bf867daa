// CIFAR archives and the archive reader, on archives generated here in the datasets' real
// binary layout (no Debian package ships CIFAR): good ones load with Keras's shapes and
// channels-last pixels; malformed ones throw an IoError that names the archive and the problem.
#include <archive.h>
#include <archive_entry.h>

#include "helpers.hpp"
#include "http_server.hpp"

namespace kiln {
namespace {

namespace fs = std::filesystem;
using Members = std::vector<std::pair<std::string, std::string>>;

// A tar archive of the members, gzip-compressed unless `gzip` is false.
std::string make_archive(const Members& members, bool gzip = true) {
  return testing::archive_bytes(members, gzip ? "tar.gz" : "tar");
}

// The value a record's image byte takes in these fixtures: distinct per record, channel, row
// and column, so a wrong transposition shows.
uint8_t pixel(int record, int channel, int row, int col) {
  return static_cast<uint8_t>(record * 31 + channel * 97 + row * 7 + col * 3);
}

// `n` records with the label bytes `labels(r)` before each image (stored plane by plane).
std::string records(int n, int first, const std::function<std::string(int)>& labels) {
  std::string out;
  for (int r = first; r < first + n; ++r) {
    out += labels(r);
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < 32; ++y)
        for (int x = 0; x < 32; ++x) out += static_cast<char>(pixel(r, c, y, x));
  }
  return out;
}

std::string label10(int r) { return std::string(1, static_cast<char>(r % 10)); }

// A CIFAR-10 archive: five training batches of 3 records and a test batch of 2.
Members cifar10_members() {
  Members m;
  for (int b = 1; b <= 5; ++b)
    m.push_back({"cifar-10-batches-bin/data_batch_" + std::to_string(b) + ".bin",
                 records(3, (b - 1) * 3, label10)});
  m.push_back({"cifar-10-batches-bin/batches.meta.txt", "airplane\n"});
  m.push_back({"cifar-10-batches-bin/test_batch.bin", records(2, 100, label10)});
  return m;
}

datasets::CifarLayout cifar10_layout() {
  datasets::CifarLayout layout;
  for (int b = 1; b <= 5; ++b)
    layout.train_members.push_back("cifar-10-batches-bin/data_batch_" + std::to_string(b) + ".bin");
  layout.test_member = "cifar-10-batches-bin/test_batch.bin";
  return layout;
}

struct CifarTest : ::testing::Test {
  testing::TempDir dir;
  fs::path write(const std::string& bytes, const std::string& name = "cifar-10-binary.tar.gz") {
    testing::write_bytes(dir / name, bytes);
    return dir / name;
  }
  // The IoError message read_cifar_archive throws for this archive (fails if none).
  std::string error_of(const std::string& bytes,
                       const datasets::CifarLayout& layout = cifar10_layout()) {
    fs::path p = write(bytes);
    try {
      datasets::read_cifar_archive(p, layout);
    } catch (const IoError& e) {
      return e.what();
    }
    ADD_FAILURE() << "no error";
    return "";
  }
};

void expect_record(const datasets::Split& s, int64_t i, int record) {
  for (int y : {0, 5, 31})
    for (int x : {0, 17, 31})
      for (int c = 0; c < 3; ++c)
        ASSERT_EQ(s.images.data()[((i * 32 + y) * 32 + x) * 3 + c], pixel(record, c, y, x))
            << "image " << i << " y " << y << " x " << x << " c " << c;
}

TEST_F(CifarTest, Cifar10ArchiveLoadsChannelsLast) {
  auto [train, test] =
      datasets::read_cifar_archive(write(make_archive(cifar10_members())), cifar10_layout());
  EXPECT_EQ(train.images.shape(), (Shape{15, 32, 32, 3}));
  EXPECT_EQ(train.labels.shape(), (Shape{15}));
  EXPECT_EQ(test.images.shape(), (Shape{2, 32, 32, 3}));
  for (int i = 0; i < 15; ++i) {
    EXPECT_EQ(train.labels.data()[i], i % 10);
    expect_record(train, i, i);
  }
  EXPECT_EQ(test.labels.data()[1], 101 % 10);
  expect_record(test, 1, 101);
}

TEST_F(CifarTest, Cifar100TakesFineOrCoarseLabels) {
  auto labels = [](int r) {
    return std::string{static_cast<char>(r % 20), static_cast<char>(r % 100)};
  };
  Members m = {{"cifar-100-binary/train.bin", records(4, 95, labels)},
               {"cifar-100-binary/test.bin", records(1, 7, labels)}};
  fs::path p = write(make_archive(m));
  datasets::CifarLayout fine{
      {"cifar-100-binary/train.bin"}, "cifar-100-binary/test.bin", 2, 1, 100};
  datasets::CifarLayout coarse{
      {"cifar-100-binary/train.bin"}, "cifar-100-binary/test.bin", 2, 0, 20};
  auto [train_fine, test_fine] = datasets::read_cifar_archive(p, fine);
  auto [train_coarse, test_coarse] = datasets::read_cifar_archive(p, coarse);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(train_fine.labels.data()[i], (95 + i) % 100);
    EXPECT_EQ(train_coarse.labels.data()[i], (95 + i) % 20);
    expect_record(train_fine, i, 95 + i);
  }
  EXPECT_EQ(test_coarse.labels.data()[0], 7);
  EXPECT_EQ(datasets::cifar100::class_names("fine").size(), 100u);
  EXPECT_EQ(datasets::cifar100::class_names("coarse").size(), 20u);
  EXPECT_THROW(datasets::cifar100::class_names("medium"), ValueError);
}

TEST_F(CifarTest, LoadByNameFindsTheArchiveInTheCache) {
  testing::TempDir cache;
  fs::create_directories(cache / "cifar10");
  testing::write_bytes(cache / "cifar10" / "cifar-10-binary.tar.gz",
                       make_archive(cifar10_members()));
  setenv("KILN_DATASETS", cache.path().c_str(), 1);
  datasets::Dataset d = datasets::load("CIFAR_10");
  unsetenv("KILN_DATASETS");
  EXPECT_EQ(d.name, "cifar10");
  EXPECT_EQ(d.train.images.shape(), (Shape{15, 32, 32, 3}));
  EXPECT_EQ(d.class_names, datasets::cifar10::class_names());
}

TEST_F(CifarTest, DownloadIsCheckedAgainstTheRealArchivesDigest) {
  // A generated archive is not the real one: the SHA-256 check must reject it, and keep nothing.
  testing::HttpServer server;
  server.serve("cifar-10-binary.tar.gz", make_archive(cifar10_members()));
  testing::TempDir cache;
  datasets::Source source = datasets::cifar10::source();
  source.system_dir = "/nonexistent";
  source.url = server.url();
  setenv("KILN_DATASETS", cache.path().c_str(), 1);
  try {
    datasets::locate(source);
    ADD_FAILURE() << "a wrong archive was accepted";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("expected c4a38c50"), std::string::npos) << e.what();
  }
  unsetenv("KILN_DATASETS");
  EXPECT_FALSE(fs::exists(cache / "cifar10" / "cifar-10-binary.tar.gz"));
}

TEST_F(CifarTest, MissingMemberIsNamedWithWhatTheArchiveHolds) {
  Members m = cifar10_members();
  m.erase(m.begin() + 2);
  std::string msg = error_of(make_archive(m));
  EXPECT_NE(msg.find("no member 'cifar-10-batches-bin/data_batch_3.bin'"), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("data_batch_4.bin"), std::string::npos) << msg;
}

TEST_F(CifarTest, PartialRecordIsRejected) {
  Members m = cifar10_members();
  m[1].second.pop_back();
  std::string msg = error_of(make_archive(m));
  EXPECT_NE(msg.find("data_batch_2.bin' holds 9218 bytes, not a whole number of 3073-byte"),
            std::string::npos)
      << msg;
  m[1].second.clear();
  msg = error_of(make_archive(m));
  EXPECT_NE(msg.find("holds 0 bytes"), std::string::npos) << msg;
}

TEST_F(CifarTest, LabelOutOfRangeIsRejected) {
  Members m = cifar10_members();
  m[6].second[3073] = 10;  // the test batch's second record
  std::string msg = error_of(make_archive(m));
  EXPECT_NE(
      msg.find(
          "record 1 of member 'cifar-10-batches-bin/test_batch.bin' has label 10; expected 0 to 9"),
      std::string::npos)
      << msg;
}

TEST_F(CifarTest, TruncatedOrForeignArchivesAreRejected) {
  std::string good = make_archive(cifar10_members());
  for (size_t keep : {good.size() / 2, size_t{100}, size_t{0}}) {
    std::string msg = error_of(good.substr(0, keep));
    EXPECT_NE(msg.find(".tar.gz"), std::string::npos) << msg;
  }
  std::string msg =
      error_of("this is not an archive, only text that goes on long enough to be read as one");
  EXPECT_NE(msg.find("cannot open as an archive"), std::string::npos) << msg;
  // A plain tar without gzip reads too.
  auto [train, test] =
      datasets::read_cifar_archive(write(make_archive(cifar10_members(), false)), cifar10_layout());
  EXPECT_EQ(train.images.dim(0), 15);
}

TEST_F(CifarTest, OversizedMemberIsRefusedBeforeItIsRead) {
  fs::path p = write(make_archive({{"big.bin", std::string(5000, 'x')}}));
  try {
    io::read_archive_members(p, {{"big.bin", 4096}});
    ADD_FAILURE() << "no error";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("member 'big.bin' holds 5000 bytes, more than the 4096"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(io::read_archive_members(p, {{"big.bin", 5000}}).at("big.bin").size(), 5000u);
}

}  // namespace
}  // namespace kiln
