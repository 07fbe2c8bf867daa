// The download fallback against a local HTTP server serving Debian's copies of Fashion-MNIST:
// good files are verified and cached, a corrupted one is rejected and not cached.
#include "helpers.hpp"
#include "http_server.hpp"

namespace kiln {
namespace {

namespace fs = std::filesystem;

struct DownloadTest : ::testing::Test {
  void SetUp() override {
    for (const auto& f : datasets::fashion_mnist::source().files)
      server.serve(f.name, io::read_file(fs::path(KILN_FASHION_DIR) / f.name));
    setenv("KILN_DATASETS", cache.path().c_str(), 1);
    setenv("KILN_DATASETS_URL", server.url().c_str(), 1);
  }
  void TearDown() override {
    unsetenv("KILN_DATASETS");
    unsetenv("KILN_DATASETS_URL");
  }
  fs::path locate() {
    // No system folder, and a default URL that must not be used: $KILN_DATASETS_URL wins.
    datasets::Source source = datasets::fashion_mnist::source();
    source.system_dir = "/nonexistent";
    source.url = "http://127.0.0.1:9/unused/";
    return datasets::locate(source);
  }
  testing::HttpServer server;
  testing::TempDir cache;
};

TEST_F(DownloadTest, DownloadsVerifiesAndCaches) {
  fs::path dir = locate();
  EXPECT_EQ(dir, cache / "fashion-mnist");
  for (const auto& f : datasets::fashion_mnist::source().files)
    EXPECT_EQ(io::read_file(dir / f.name), io::read_file(fs::path(KILN_FASHION_DIR) / f.name)) << f.name;
  auto [train, test] = datasets::load_idx_folder(dir);
  EXPECT_EQ(train.images.shape(), (Shape{60000, 28, 28}));
  EXPECT_EQ(test.labels.shape(), (Shape{10000}));
  // A second call finds the cache and downloads nothing: the server could be gone.
  server.serve("train-images-idx3-ubyte.gz", "changed");
  EXPECT_EQ(locate(), dir);
}

TEST_F(DownloadTest, CorruptedFileIsRejectedAndNotCached) {
  std::string labels = io::read_file(fs::path(KILN_FASHION_DIR) / "train-labels-idx1-ubyte.gz");
  labels[100] = static_cast<char>(labels[100] ^ 1);
  server.serve("train-labels-idx1-ubyte.gz", labels);
  try {
    locate();
    FAIL() << "a corrupted download was accepted";
  } catch (const IoError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("train-labels-idx1-ubyte.gz"), std::string::npos) << msg;
    EXPECT_NE(msg.find("expected 0ae29f65"), std::string::npos) << msg;
  }
  EXPECT_FALSE(fs::exists(cache / "fashion-mnist" / "train-labels-idx1-ubyte.gz"));
  for (const auto& entry : fs::directory_iterator(cache / "fashion-mnist"))
    EXPECT_EQ(entry.path().string().find(".part"), std::string::npos) << "left behind: " << entry.path();
}

TEST_F(DownloadTest, MissingFileOnTheServerIsAnError) {
  try {
    datasets::download(server.url() + "nothing-here.gz", cache / "x.gz", "00");
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("nothing-here.gz failed"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(cache / "x.gz"));
}

}  // namespace
}  // namespace kiln
