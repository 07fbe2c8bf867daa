// Writing a dataset out as an image folder: the class folders sort in label order, every image
// comes back as it went in (PNG exactly, JPEG closely), and a folder that cannot be written is
// an error naming it.
#include "helpers.hpp"

namespace kiln {
namespace {

namespace fs = std::filesystem;

datasets::Dataset tiny(const Shape& image) {
  Shape train_shape{12}, test_shape{3};
  train_shape.insert(train_shape.end(), image.begin(), image.end());
  test_shape.insert(test_shape.end(), image.begin(), image.end());
  datasets::Dataset d{"tiny",
                      {ByteTensor(train_shape), ByteTensor({12})},
                      {ByteTensor(test_shape), ByteTensor({3})},
                      {"T-shirt/top", "Ankle boot", "bag", "c", "d", "e", "f", "g", "h", "i", "j"}};
  for (int64_t i = 0; i < d.train.images.size(); ++i)
    d.train.images.data()[i] = static_cast<uint8_t>(i * 13);
  for (int64_t i = 0; i < d.test.images.size(); ++i)
    d.test.images.data()[i] = static_cast<uint8_t>(i * 7);
  for (int64_t i = 0; i < 12; ++i) d.train.labels.data()[i] = static_cast<uint8_t>(i % 11);
  for (int64_t i = 0; i < 3; ++i) d.test.labels.data()[i] = static_cast<uint8_t>(10 - i);
  return d;
}

ByteTensor image_of(const datasets::Split& s, int64_t i) {
  Shape one(s.images.shape().begin() + 1, s.images.shape().end());
  ByteTensor t(one);
  std::copy_n(s.images.data() + i * t.size(), t.size(), t.data());
  return t;
}

TEST(ClassFolderName, PadsTheLabelAndCleansTheName) {
  std::vector<std::string> names = {"T-shirt/top", "Ankle boot", "a\\b", "d", "e", "f",
                                    "g",           "h",          "i",    "j", "k"};
  EXPECT_EQ(datasets::class_folder_name(0, names), "00_T-shirt_top");
  EXPECT_EQ(datasets::class_folder_name(1, names), "01_Ankle_boot");
  EXPECT_EQ(datasets::class_folder_name(2, names), "02_a_b");
  EXPECT_EQ(datasets::class_folder_name(10, names), "10_k");
  names.resize(10);
  EXPECT_EQ(datasets::class_folder_name(9, names), "9_j");
  EXPECT_THROW(datasets::class_folder_name(10, names), ValueError);
}

TEST(ExportImageFolder, PngFolderHoldsEveryImageExactlyInLabelOrder) {
  datasets::Dataset d = tiny({5, 4});
  testing::TempDir dir;
  std::vector<int64_t> reports;
  auto summary =
      datasets::export_image_folder(d, dir / "out", {.progress = [&](int64_t n, int64_t total) {
                                      EXPECT_EQ(total, 15);
                                      reports.push_back(n);
                                    }});
  EXPECT_EQ(summary.images, 15);
  EXPECT_EQ(reports.back(), 15);
  std::vector<std::string> folders;
  for (const auto& e : fs::directory_iterator(dir / "out" / "train"))
    folders.push_back(e.path().filename());
  std::sort(folders.begin(), folders.end());
  ASSERT_EQ(folders.size(), 11u);
  for (size_t c = 0; c < folders.size(); ++c)
    EXPECT_EQ(folders[c], datasets::class_folder_name(c, d.class_names));
  uint64_t bytes = 0;
  for (int64_t i = 0; i < 12; ++i) {
    fs::path file = dir / "out" / "train" / datasets::class_folder_name(i % 11, d.class_names) /
                    ((i < 10 ? "0" : "") + std::to_string(i) + ".png");
    ASSERT_TRUE(fs::exists(file)) << file;
    bytes += fs::file_size(file);
    ByteTensor back = io::read_png_gray(file);
    ByteTensor want = image_of(d.train, i);
    EXPECT_TRUE(std::equal(want.data(), want.data() + want.size(), back.data())) << file;
  }
  EXPECT_TRUE(fs::exists(dir / "out" / "test" / "08_h" / "2.png"));
  EXPECT_GT(summary.bytes, bytes);
}

TEST(ExportImageFolder, JpegFolderDecodesCloseToTheColourImages) {
  datasets::Dataset d = tiny({16, 16, 3});
  for (int64_t i = 0; i < d.train.images.size(); ++i)  // smooth content, as photos are
    d.train.images.data()[i] = static_cast<uint8_t>(100 + (i % 768) / 12);
  testing::TempDir dir;
  datasets::export_image_folder(d, dir / "out", {.format = "jpeg", .quality = 95});
  fs::path file = dir / "out" / "train" / "05_e" / "05.jpg";
  ByteTensor back = io::decode_jpeg(io::read_file(file), file.string());
  ByteTensor want = image_of(d.train, 5);
  ASSERT_EQ(back.shape(), want.shape());
  for (int64_t i = 0; i < want.size(); ++i)
    ASSERT_LE(std::abs(int(back.data()[i]) - int(want.data()[i])), 6) << i;
}

TEST(ExportImageFolder, RefusesAFolderInUseAndReportsUnwritableOnes) {
  datasets::Dataset d = tiny({5, 4});
  testing::TempDir dir;
  testing::write_bytes(dir / "keep.txt", "mine");
  try {
    datasets::export_image_folder(d, dir.path());
    ADD_FAILURE() << "exported into a folder in use";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("exists and is not an empty folder"), std::string::npos)
        << e.what();
  }
  // A folder under a regular file cannot be created, even by root.
  try {
    datasets::export_image_folder(d, dir / "keep.txt" / "out");
    ADD_FAILURE() << "no error";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("keep.txt"), std::string::npos) << e.what();
  }
  EXPECT_THROW(datasets::export_image_folder(d, dir / "x", {.format = "gif"}), ValueError);
  d.train.labels.data()[3] = 11;
  EXPECT_THROW(datasets::export_image_folder(d, dir / "y"), IoError);
}

}  // namespace
}  // namespace kiln
