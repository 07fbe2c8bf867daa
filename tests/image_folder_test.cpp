// image_dataset_from_directory on folders made here: Keras's order, shuffle and split, the colour
// modes, resizing, label modes, and unreadable files raised or skipped by name.
#include <zlib.h>

#include "helpers.hpp"

namespace kiln {
namespace {

namespace fs = std::filesystem;

// A PNG signature and header claiming width x height grey pixels, with no pixel data.
std::string png_header(uint32_t width, uint32_t height) {
  auto be32 = [](uint32_t v) {
    return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                       static_cast<char>(v >> 8), static_cast<char>(v)};
  };
  std::string body = "IHDR" + be32(width) + be32(height) + std::string{8, 0, 0, 0, 0};
  uLong crc = crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()));
  return std::string("\x89PNG\r\n\x1a\n", 8) + be32(13) + body + be32(static_cast<uint32_t>(crc));
}

ByteTensor filled(const Shape& shape, uint8_t value) {
  ByteTensor t(shape);
  std::fill_n(t.data(), t.size(), value);
  return t;
}

// root/cat/{0..2}.png (grey 4x4, values 10, 11, 12), root/cat/more/x.JPG, root/dog/{0,1}.png
// (RGB 6x3), plus what must be ignored: a hidden folder, a text file, a file at the top.
struct ImageFolderTest : ::testing::Test {
  testing::TempDir root;
  void SetUp() override {
    for (int i = 0; i < 3; ++i)
      write("cat/" + std::to_string(i) + ".png", io::encode_png(filled({4, 4}, 10 + i)));
    write("cat/more/x.JPG", io::encode_jpeg(filled({4, 4}, 200), 100));
    ByteTensor rgb({6, 3, 3});
    for (int64_t p = 0; p < 18; ++p) {
      rgb.data()[p * 3] = 200;
      rgb.data()[p * 3 + 1] = 100;
      rgb.data()[p * 3 + 2] = 50;
    }
    write("dog/0.png", io::encode_png(rgb));
    write("dog/1.png", io::encode_png(rgb));
    write(".hidden/h.png", io::encode_png(filled({4, 4}, 1)));
    write("cat/notes.txt", "not an image");
    write("top.png", io::encode_png(filled({4, 4}, 1)));
  }
  void write(const std::string& name, const std::string& bytes) {
    fs::create_directories((root / name).parent_path());
    testing::write_bytes(root / name, bytes);
  }
  datasets::ImageFolderOptions plain() {
    return {.color_mode = "grayscale", .image_size = {4, 4}, .shuffle = false, .verbose = false};
  }
};

std::vector<std::string> names_of(const datasets::ImageFolder& f, const fs::path& root) {
  std::vector<std::string> out;
  for (const auto& p : f.file_paths) out.push_back(fs::relative(p, root).string());
  return out;
}

TEST(NumpyShuffle, MatchesRandomStateShuffle) {
  // np.random.RandomState(seed).shuffle(list(range(n))), printed by NumPy 1.24.
  EXPECT_EQ(
      datasets::numpy_shuffle_order(20, 123),
      (std::vector<int64_t>{14, 5, 4, 17, 8, 7, 19, 12, 0, 15, 16, 9, 11, 10, 3, 1, 6, 18, 2, 13}));
  EXPECT_EQ(datasets::numpy_shuffle_order(7, 0), (std::vector<int64_t>{6, 2, 1, 3, 0, 5, 4}));
  auto big = datasets::numpy_shuffle_order(1000, 4294967295u);
  EXPECT_EQ(std::vector<int64_t>(big.begin(), big.begin() + 10),
            (std::vector<int64_t>{94, 405, 819, 632, 217, 169, 449, 275, 165, 828}));
}

TEST_F(ImageFolderTest, IndexesAsKerasDoes) {
  ::testing::internal::CaptureStdout();
  auto opts = plain();
  opts.verbose = true;
  auto f = datasets::image_dataset_from_directory(root.path(), opts);
  EXPECT_EQ(::testing::internal::GetCapturedStdout(), "Found 6 files belonging to 2 classes.\n");
  EXPECT_EQ(f.class_names, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(names_of(f, root.path()),
            (std::vector<std::string>{"cat/0.png", "cat/1.png", "cat/2.png", "cat/more/x.JPG",
                                      "dog/0.png", "dog/1.png"}));
  ASSERT_EQ(f.images.shape(), (Shape{6, 4, 4, 1}));
  for (int i = 0; i < 6; ++i) EXPECT_EQ(f.labels[i], i < 4 ? 0 : 1);
  EXPECT_EQ(f.images.data()[16 * 2], 12);
  EXPECT_NEAR(f.images.data()[16 * 3], 200, 2);  // the JPEG
  // Grey from RGB(200, 100, 50) is its luma, 0.299 R + 0.587 G + 0.114 B; resized from 6x3.
  EXPECT_EQ(f.images.data()[16 * 4], 124);
}

TEST_F(ImageFolderTest, FollowedLinksAreListedButCyclesAreNotEntered) {
  // cat/up -> cat and cat/more/loop -> cat/more: cycles, which would never end (and branch: each
  // link doubles the paths) if entered; dog/cats -> cat is a plain link, listed as Keras lists it.
  fs::create_directory_symlink(root / "cat", root / "cat/up");
  fs::create_directory_symlink(root / "cat/more", root / "cat/more/loop");
  fs::create_directory_symlink(root / "cat", root / "dog/cats");
  auto opts = plain();
  opts.follow_links = true;
  std::vector<std::string> names;
  for (const auto& p : datasets::image_dataset_from_directory(root.path(), opts).file_paths)
    names.push_back(p.lexically_relative(root.path()).string());
  EXPECT_EQ(names, (std::vector<std::string>{"cat/0.png", "cat/1.png", "cat/2.png", "cat/more/x.JPG", "dog/0.png",
                                             "dog/1.png", "dog/cats/0.png", "dog/cats/1.png", "dog/cats/2.png",
                                             "dog/cats/more/x.JPG"}));
  opts.follow_links = false;
  EXPECT_EQ(datasets::image_dataset_from_directory(root.path(), opts).file_paths.size(), 6u);
}

TEST_F(ImageFolderTest, ClassNamesChooseAndOrderTheClasses) {
  auto opts = plain();
  opts.class_names = {"dog"};
  auto f = datasets::image_dataset_from_directory(root.path(), opts);
  EXPECT_EQ(f.images.dim(0), 2);
  EXPECT_EQ(f.labels[0], 0);
  opts.class_names = {"dog", "cat"};
  f = datasets::image_dataset_from_directory(root.path(), opts);
  // Listed class by class in the given order: dog's two files (label 0), then cat's (label 1).
  EXPECT_EQ(names_of(f, root.path())[0], "dog/0.png");
  EXPECT_EQ(f.labels[0], 0);
  EXPECT_EQ(names_of(f, root.path())[2], "cat/0.png");
  EXPECT_EQ(f.labels[2], 1);
  opts.class_names = {"cow"};
  try {
    datasets::image_dataset_from_directory(root.path(), opts);
    ADD_FAILURE() << "no error";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "Expected: [cat, dog] (or a subset of it), but received: class_names=[cow]"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(ImageFolderTest, SeededShuffleAndSplitAreKerasAndPartitionTheFiles) {
  auto opts = plain();
  opts.shuffle = true;
  opts.seed = 123;
  auto all = datasets::image_dataset_from_directory(root.path(), opts);
  // Keras: the sorted list shuffled by NumPy's RandomState(123).
  auto order = datasets::numpy_shuffle_order(6, 123);
  auto sorted = names_of(datasets::image_dataset_from_directory(root.path(), plain()), root.path());
  for (int i = 0; i < 6; ++i) EXPECT_EQ(names_of(all, root.path())[i], sorted[order[i]]);
  opts.validation_split = 0.4;
  auto [train, valid] = datasets::image_datasets_from_directory(root.path(), opts);
  EXPECT_EQ(train.images.dim(0), 4);  // int(0.4 * 6) = 2 held out, from the end
  EXPECT_EQ(valid.images.dim(0), 2);
  auto t = names_of(train, root.path()), v = names_of(valid, root.path());
  t.insert(t.end(), v.begin(), v.end());
  EXPECT_EQ(t, names_of(all, root.path()));
  opts.subset = "validation";
  EXPECT_EQ(names_of(datasets::image_dataset_from_directory(root.path(), opts), root.path()),
            names_of(valid, root.path()));
  opts.seed.reset();
  EXPECT_THROW(datasets::image_dataset_from_directory(root.path(), opts), ValueError);
  opts.seed = 1;
  opts.validation_split = 0;
  EXPECT_THROW(datasets::image_dataset_from_directory(root.path(), opts),
               ValueError);  // subset without a split
}

TEST_F(ImageFolderTest, ColourModesResizingAndLabelModes) {
  auto opts = plain();
  opts.color_mode = "rgba";
  opts.image_size = {2, 3};
  opts.interpolation = "nearest";
  opts.label_mode = "categorical";
  auto f = datasets::image_dataset_from_directory(root.path(), opts);
  ASSERT_EQ(f.images.shape(), (Shape{6, 2, 3, 4}));
  const uint8_t* grey = f.images.data();  // cat/0.png: grey 10 copied into R, G, B, opaque
  EXPECT_EQ((std::vector<int>{grey[0], grey[1], grey[2], grey[3]}),
            (std::vector<int>{10, 10, 10, 255}));
  const uint8_t* dog = f.images.data() + 4 * 24;
  EXPECT_EQ((std::vector<int>{dog[0], dog[1], dog[2], dog[3]}),
            (std::vector<int>{200, 100, 50, 255}));
  ASSERT_FALSE(f.labels.sparse());
  EXPECT_EQ(f.labels.floats().shape(), (Shape{6, 2}));
  EXPECT_EQ(f.labels.floats().data()[4 * 2 + 1], 1.0f);
  opts.label_mode = "binary";
  f = datasets::image_dataset_from_directory(root.path(), opts);
  EXPECT_EQ(f.labels.floats().shape(), (Shape{6, 1}));
  EXPECT_EQ(f.labels.floats().data()[5], 1.0f);
  write("emu/0.png", io::encode_png(filled({4, 4}, 9)));
  EXPECT_THROW(datasets::image_dataset_from_directory(root.path(), opts), ValueError);  // 3 classes
  opts.label_mode = "int";
  opts.interpolation = "lanczos3";
  EXPECT_THROW(datasets::image_dataset_from_directory(root.path(), opts), ValueError);
}

TEST_F(ImageFolderTest, UnreadableFilesAreNamedAndSkippedOnRequest) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"cat/empty.png", ""},
      {"cat/text.png", "just some text, not a picture"},
      {"cat/truncated.png", io::encode_png(filled({64, 64}, 7)).substr(0, 60)},
      {"cat/huge.png", png_header(100000, 100000)},
      {"cat/truncated.jpg", io::encode_jpeg(filled({64, 64, 3}, 90), 90).substr(0, 300)},
      {"cat/old.bmp", "BM\x36\x00\x00\x00"},
  };
  const std::vector<std::string> why = {
      "empty file", "not an image kiln reads",
      "PNG",        "a 100000x100000 PNG has more than 16777216 pixels",
      "JPEG",       "truncated BMP"};
  for (size_t i = 0; i < bad.size(); ++i) {
    write(bad[i].first, bad[i].second);
    try {
      datasets::image_dataset_from_directory(root.path(), plain());
      ADD_FAILURE() << bad[i].first << " was read";
    } catch (const IoError& e) {
      std::string msg = e.what();
      EXPECT_NE(msg.find(bad[i].first), std::string::npos) << msg;
      EXPECT_NE(msg.find(why[i]), std::string::npos) << msg;
    }
    fs::rename(root / bad[i].first, root / (bad[i].first + ".kept"));  // out of the next search
  }
  for (const auto& [name, bytes] : bad) fs::rename(root / (name + ".kept"), root / name);
  auto opts = plain();
  opts.on_error = "skip";
  ::testing::internal::CaptureStderr();
  auto f = datasets::image_dataset_from_directory(root.path(), opts);
  std::string warning = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(f.images.dim(0), 6);
  EXPECT_EQ(f.skipped.size(), bad.size());
  EXPECT_NE(warning.find("skipped 6 of 12 files that could not be read"), std::string::npos)
      << warning;
}

// The streaming loader gives the in-memory loader's images, order and targets.
TEST_F(ImageFolderTest, PipelineDecodesWhatTheInMemoryLoaderDoes) {
  auto opts = plain();
  opts.color_mode = "rgb";
  opts.image_size = {3, 5};
  opts.shuffle = true;
  opts.seed = 4;
  for (const std::string mode : {"int", "categorical"}) {
    opts.label_mode = mode;
    auto f = datasets::image_dataset_from_directory(root.path(), opts);
    data::Dataset ds = datasets::image_pipeline_from_directory(root.path(), opts);
    ASSERT_EQ(ds.cardinality(), 6);
    data::Batch b;
    ASSERT_TRUE(ds.batch(6).prefetch(1, 2).iterate().next(b));
    ASSERT_EQ(b.x[0].shape(), f.images.shape());
    EXPECT_TRUE(std::equal(f.images.data(), f.images.data() + f.images.size(), b.x[0].bytes().data()));
    if (mode == "int") {
      for (int64_t i = 0; i < 6; ++i) EXPECT_EQ(b.y[i], f.labels[i]);
    } else {
      ASSERT_EQ(b.y.floats().shape(), f.labels.floats().shape());
      for (int64_t i = 0; i < 12; ++i) EXPECT_EQ(b.y.floats()[i], f.labels.floats()[i]);
    }
  }
  opts.label_mode = "int";
  opts.validation_split = 0.5;
  opts.subset = "validation";
  EXPECT_EQ(datasets::list_image_files(root.path(), opts).paths,
            datasets::image_dataset_from_directory(root.path(), opts).file_paths);
}

TEST_F(ImageFolderTest, PipelineNamesOrSkipsAnUnreadableFileWhenItsBatchIsBuilt) {
  write("cat/truncated.png", io::encode_png(filled({64, 64}, 7)).substr(0, 60));
  data::Dataset raising = datasets::image_pipeline_from_directory(root.path(), plain()).batch(4).prefetch();
  try {
    data::Iterator it = raising.iterate();
    data::Batch b;
    while (it.next(b)) {
    }
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("truncated.png"), std::string::npos) << e.what();
  }
  auto opts = plain();
  opts.on_error = "skip";
  data::Dataset skipping = datasets::image_pipeline_from_directory(root.path(), opts).cache().batch(4);
  ::testing::internal::CaptureStderr();
  int64_t samples = 0;
  for (int epoch = 0; epoch < 2; ++epoch) {
    data::Iterator it = skipping.iterate(epoch);
    data::Batch b;
    while (it.next(b)) samples += b.size();
  }
  std::string warning = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(samples, 12);  // 6 images read in each of 2 epochs
  EXPECT_NE(warning.find("truncated.png"), std::string::npos) << warning;
  EXPECT_EQ(warning.find("truncated.png"), warning.rfind("truncated.png")) << "named once: " << warning;
}

TEST_F(ImageFolderTest, EmptyOrMissingFoldersAreErrors) {
  testing::TempDir empty;
  fs::create_directories(empty / "a");
  EXPECT_THROW(datasets::image_dataset_from_directory(empty.path(), plain()), ValueError);
  EXPECT_THROW(datasets::image_dataset_from_directory(empty / "nope", plain()), IoError);
  EXPECT_THROW(datasets::image_pipeline_from_directory(empty.path(), plain()), ValueError);
}

TEST(ResizeImage, FollowsTensorFlowsHalfPixelRules) {
  ByteTensor row({1, 4, 1});
  const uint8_t values[] = {0, 100, 200, 250};
  std::copy_n(values, 4, row.data());
  auto as_vector = [](const ByteTensor& t) {
    return std::vector<int>(t.data(), t.data() + t.size());
  };
  EXPECT_EQ(as_vector(io::resize_image(row, 1, 2, "area")), (std::vector<int>{50, 225}));
  EXPECT_EQ(as_vector(io::resize_image(row, 1, 2, "bilinear")), (std::vector<int>{50, 225}));
  EXPECT_EQ(as_vector(io::resize_image(row, 1, 2, "nearest")), (std::vector<int>{100, 250}));
  ByteTensor two({1, 2, 1});
  two.data()[1] = 100;
  EXPECT_EQ(as_vector(io::resize_image(two, 1, 4, "bilinear")), (std::vector<int>{0, 25, 75, 100}));
  EXPECT_EQ(as_vector(io::resize_image(two, 1, 4, "nearest")), (std::vector<int>{0, 0, 100, 100}));
  EXPECT_EQ(as_vector(io::resize_image(two, 1, 3, "area")), (std::vector<int>{0, 50, 100}));
  ByteTensor wide({2, 6, 1});
  for (int i = 0; i < 12; ++i) wide.data()[i] = static_cast<uint8_t>(i);
  ByteTensor square = io::crop_to_aspect_ratio(wide, 5, 5);  // the centre 2x2
  EXPECT_EQ(square.shape(), (Shape{2, 2, 1}));
  EXPECT_EQ(as_vector(square), (std::vector<int>{2, 3, 8, 9}));
}

}  // namespace
}  // namespace kiln
