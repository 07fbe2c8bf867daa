// Pictures: each is decoded again (libspng, not cairo) and its pixels checked against what was
// drawn; bad input must throw and leave no file behind.
#include <spng.h>

#include <cmath>

#include "helpers.hpp"

namespace kiln {
namespace {

namespace fs = std::filesystem;

struct Rgba {
  uint32_t width = 0, height = 0;
  std::vector<uint8_t> pixels;
  const uint8_t* at(double x, double y) const {
    return pixels.data() + (static_cast<size_t>(y) * width + static_cast<size_t>(x)) * 4;
  }
};

Rgba decode(const fs::path& path) {
  std::string bytes = io::read_file(path);
  spng_ctx* ctx = spng_ctx_new(0);
  spng_set_png_buffer(ctx, bytes.data(), bytes.size());
  Rgba out;
  spng_ihdr ihdr{};
  size_t size = 0;
  EXPECT_EQ(spng_get_ihdr(ctx, &ihdr), 0) << path;
  EXPECT_EQ(spng_decoded_image_size(ctx, SPNG_FMT_RGBA8, &size), 0);
  out.pixels.resize(size);
  EXPECT_EQ(spng_decode_image(ctx, out.pixels.data(), size, SPNG_FMT_RGBA8, 0), 0);
  spng_ctx_free(ctx);
  out.width = ihdr.width;
  out.height = ihdr.height;
  return out;
}

// Whether some pixel within `radius` of (x, y) has about this colour.
bool color_near(const Rgba& img, double x, double y, int radius, uint32_t rgb) {
  for (int dy = -radius; dy <= radius; ++dy)
    for (int dx = -radius; dx <= radius; ++dx) {
      const uint8_t* p = img.at(x + dx, y + dy);
      if (std::abs(p[0] - int(rgb >> 16)) < 40 && std::abs(p[1] - int((rgb >> 8) & 0xff)) < 40 &&
          std::abs(p[2] - int(rgb & 0xff)) < 40)
        return true;
    }
  return false;
}

constexpr uint32_t kBlue = 0x1f77b4, kOrange = 0xff7f0e;

TEST(Plot, ImageGridCellsHoldTheDatasetImages) {
  ByteTensor images =
      datasets::read_idx(fs::path(KILN_FASHION_DIR) / "t10k-images-idx3-ubyte.gz").slice(0, 7);
  testing::TempDir dir;
  for (std::string cmap : {"gray", "binary"}) {
    auto cells = plot::image_grid(images, {"a", "b", "c", "d", "e", "f", "g\nsecond line"},
                                  dir / "grid.png", {.scale = 3, .cmap = cmap});
    ASSERT_EQ(cells.size(), 7u);
    Rgba img = decode(dir / "grid.png");
    for (int64_t i = 0; i < 7; ++i) {
      EXPECT_EQ(cells[i].width, 84);
      int64_t mismatched = 0;
      for (int64_t y = 0; y < 84; ++y)
        for (int64_t x = 0; x < 84; ++x) {
          uint8_t v = images[(i * 28 + y / 3) * 28 + x / 3];
          uint8_t want = cmap == "gray" ? v : 255 - v;
          const uint8_t* p = img.at(cells[i].x + x, cells[i].y + y);
          mismatched += p[0] != want || p[1] != want || p[2] != want;
        }
      EXPECT_EQ(mismatched, 0) << cmap << " image " << i;
    }
    // 3 columns of 3 rows; the grid is wider than 3 images and holds them all.
    EXPECT_GE(img.width, 3u * 84);
    EXPECT_GE(img.height, 3u * 84);
    EXPECT_LT(cells[2].x, cells[1].x + 200);
    EXPECT_GT(cells[3].y, cells[0].y);
  }
}

TEST(Plot, LearningCurvesLieWhereTheDataSays) {
  History h;
  for (int e = 0; e <= 10; ++e) {
    h.epoch.push_back(e);
    h.history["loss"].push_back(1.0 - e / 10.0);  // top-left to bottom-right
  }
  testing::TempDir dir;
  auto opts = plot::CurvesOptions{.ylim = std::pair{0.0, 1.0}, .width = 640, .height = 480};
  plot::Rect area = plot::learning_curves(h, dir / "curves.png", opts);
  Rgba img = decode(dir / "curves.png");
  EXPECT_EQ(img.width, 640u);
  EXPECT_EQ(img.height, 480u);
  // Epochs 0..10 span the x range with 5% margins; values 0..1 span the whole height.
  auto px = [&](double e) { return area.x + (e + 0.5) / 11.0 * area.width; };
  auto py = [&](double v) { return area.y + (1 - v) * area.height; };
  EXPECT_TRUE(color_near(img, px(0), py(1), 2, kBlue)) << "top-left";
  EXPECT_TRUE(color_near(img, px(10), py(0), 2, kBlue)) << "bottom-right";
  for (double e : {2.5, 5.0, 7.5})
    EXPECT_TRUE(color_near(img, px(e), py(1 - e / 10), 2, kBlue)) << e;
  // Off the line (above and below it) the plot is background.
  EXPECT_FALSE(color_near(img, px(8), py(0.8), 4, kBlue));
  EXPECT_FALSE(color_near(img, px(2), py(0.2), 4, kBlue));

  // A second column gets the next colour, and its own line.
  for (int e = 0; e <= 10; ++e) h.history["accuracy"].push_back(e / 10.0);
  area = plot::learning_curves(h, dir / "two.png", opts);
  img = decode(dir / "two.png");
  for (double e : {2.5, 7.5}) {
    EXPECT_TRUE(color_near(img, px(e), py(1 - e / 10), 2, kBlue)) << "loss at epoch " << e;
    EXPECT_TRUE(color_near(img, px(e), py(e / 10), 2, kOrange)) << "accuracy at epoch " << e;
  }
  EXPECT_FALSE(color_near(img, px(1), py(0.5), 4, kOrange));

  // One epoch is a dot in the middle.
  area = plot::learning_curves(History{{0}, {{"loss", {0.5}}}}, dir / "one.png", opts);
  img = decode(dir / "one.png");
  EXPECT_TRUE(color_near(img, area.x + area.width / 2, area.y + area.height / 2, 1, kBlue));
}

TEST(Plot, SvgAndPdfComeFromTheSameDrawing) {
  History h{{0, 1}, {{"loss", {0.5, 0.25}}, {"val_loss", {0.6, 0.4}}}};
  testing::TempDir dir;
  plot::learning_curves(h, dir / "c.svg");
  plot::learning_curves(h, dir / "c.PDF");
  std::string svg = io::read_file(dir / "c.svg"), pdf = io::read_file(dir / "c.PDF");
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("width=\"800"), std::string::npos);
  EXPECT_EQ(pdf.rfind("%PDF-", 0), 0u);
  // Images go into SVG already scaled up, so viewers cannot blur them.
  plot::image_grid(ByteTensor({2, 28, 28}), {}, dir / "g.svg", {.scale = 3});
  EXPECT_NE(io::read_file(dir / "g.svg").find("<image id=\"image"), std::string::npos);
  EXPECT_NE(io::read_file(dir / "g.svg").find("width=\"84\" height=\"84\""), std::string::npos);
}

TEST(Plot, ConfusionMatrixAndReport) {
  std::vector<int32_t> truth = {0, 0, 0, 1, 1, 2, 2, 2, 2}, predicted = {0, 0, 1, 1, 1, 2, 2, 0, 2};
  ConfusionMatrix cm = confusion_matrix(truth, predicted, 3);
  EXPECT_EQ(cm(0, 0), 2);
  EXPECT_EQ(cm(0, 1), 1);
  EXPECT_EQ(cm(2, 0), 1);
  EXPECT_EQ(cm.total(), 9);
  auto s = class_scores(cm);
  EXPECT_DOUBLE_EQ(s[0].precision, 2.0 / 3);  // column 0: 2 right of 3 predicted
  EXPECT_DOUBLE_EQ(s[0].recall, 2.0 / 3);
  EXPECT_DOUBLE_EQ(s[1].precision, 2.0 / 3);
  EXPECT_DOUBLE_EQ(s[1].recall, 1.0);
  EXPECT_DOUBLE_EQ(s[1].f1, 0.8);
  EXPECT_EQ(s[2].support, 4);
  std::string report = classification_report(cm, {"cat", "dog", "bird"});
  EXPECT_NE(report.find("    precision    recall  f1-score   support"), std::string::npos)
      << report;
  EXPECT_NE(report.find("         dog      0.67      1.00      0.80         2"), std::string::npos)
      << report;
  EXPECT_NE(report.find("    accuracy                          0.78         9"), std::string::npos)
      << report;
  std::vector<int32_t> two = {0, 1}, out_of_range = {0, 3};
  EXPECT_THROW(confusion_matrix(truth, two, 3), ValueError);
  EXPECT_THROW(confusion_matrix(out_of_range, two, 3), ValueError);

  testing::TempDir dir;
  plot::Rect cells = plot::confusion_matrix(cm, {"cat", "dog", "bird"}, dir / "cm.png");
  Rgba img = decode(dir / "cm.png");
  EXPECT_GT(img.width, cells.x + cells.width);
  EXPECT_GT(img.height, cells.y + cells.height);
  // The darkest cell is dog/dog (all of its row); an empty cell (cat predicted as bird) is pale.
  double cell = cells.width / 3;
  const uint8_t* full = img.at(cells.x + 1.5 * cell, cells.y + 1.2 * cell);
  const uint8_t* empty = img.at(cells.x + 2.5 * cell, cells.y + 0.2 * cell);
  EXPECT_LT(full[0] + full[1], empty[0] + empty[1] - 200);
}

TEST(Plot, ModelGraphHasABoxPerLayerAndArrowsDownTheGraph) {
  testing::TempDir dir;
  auto inputs = Input({28, 28});
  auto x = layers::Flatten()(inputs);
  auto h = layers::Dense(32, "relu")(x);
  auto s = layers::Add()({h, layers::Dense(32, "relu")(h)});
  Model model(inputs, layers::Dense(10, "softmax")(s), "residual");
  std::vector<plot::Rect> boxes = plot::model(model, dir / "model.png");
  ASSERT_EQ(boxes.size(), model.layers().size());
  Rgba img = decode(dir / "model.png");
  for (size_t i = 0; i < boxes.size(); ++i) {
    const plot::Rect& b = boxes[i];
    EXPECT_GE(b.x, 0);
    EXPECT_LE(b.x + b.width, img.width);
    EXPECT_LE(b.y + b.height, img.height);
    // The box's edge is drawn, and no other box overlaps it.
    EXPECT_TRUE(color_near(img, b.x, b.y + b.height / 2, 1, 0x404040)) << model.layers()[i]->name();
    for (size_t j = 0; j < i; ++j) {
      const plot::Rect& o = boxes[j];
      bool apart = b.x >= o.x + o.width || o.x >= b.x + b.width || b.y >= o.y + o.height || o.y >= b.y + b.height;
      EXPECT_TRUE(apart) << model.layers()[i]->name() << " overlaps " << model.layers()[j]->name();
    }
  }
  // Each layer lies below every layer it reads from: input, flatten, dense, dense_1, add, dense_2.
  for (size_t i = 1; i < boxes.size(); ++i) EXPECT_GE(boxes[i].y, boxes[i - 1].y) << i;
  EXPECT_GT(boxes[4].y, boxes[3].y + boxes[3].height) << "add sits under dense_1, which sits under dense";
  plot::model(model, dir / "model.svg", {.show_shapes = false});
  plot::model(model, dir / "model.pdf");
  EXPECT_NE(io::read_file(dir / "model.svg").find("<svg"), std::string::npos);
  EXPECT_EQ(io::read_file(dir / "model.pdf").substr(0, 5), "%PDF-");
  EXPECT_THROW(plot::model(model, dir / "model.bmp"), ValueError);
  EXPECT_THROW(plot::model(model, dir / "missing" / "model.png"), IoError);
  EXPECT_THROW(plot::model(Sequential({layers::Dense(2)}), dir / "unbuilt.png"), ValueError);
}

TEST(Plot, BadInputThrowsAndWritesNothing) {
  testing::TempDir dir;
  History h{{0}, {{"loss", {1.0}}}};
  EXPECT_THROW(plot::learning_curves(h, dir / "curves.jpg"), ValueError);
  EXPECT_THROW(plot::learning_curves(h, dir / "no-such-folder" / "curves.png"), IoError);
  EXPECT_THROW(plot::learning_curves(History{}, dir / "empty.png"), ValueError);
  EXPECT_THROW(plot::learning_curves(History{{0, 1}, {{"loss", {1.0}}}}, dir / "ragged.png"),
               ValueError);
  EXPECT_THROW(plot::learning_curves(h, dir / "ylim.png", {.ylim = std::pair{1.0, 0.0}}),
               ValueError);
  ByteTensor images({2, 4, 4});
  EXPECT_THROW(plot::image_grid(images, {"only one"}, dir / "grid.png"), ValueError);
  EXPECT_THROW(plot::image_grid(images, {}, dir / "grid.png", {.cmap = "jet"}), ValueError);
  EXPECT_THROW(plot::image_grid(ByteTensor({2, 4}), {}, dir / "grid.png"), ShapeError);
  EXPECT_THROW(plot::image_grid(ByteTensor({4000, 28, 28}), {}, dir / "grid.png", {.scale = 64}),
               ValueError);
  std::vector<int32_t> zero = {0};
  EXPECT_THROW(plot::confusion_matrix(confusion_matrix(zero, zero, 2), {"one"}, dir / "cm.png"),
               ValueError);
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(Plot, HistoryCsvReadsWhatCsvLoggerWrites) {
  testing::TempDir dir;
  CSVLogger csv((dir / "history.csv").string());
  plot::LearningCurvesPlotter curves(dir / "curves.png");
  csv.on_train_begin({});
  curves.on_train_begin({});
  for (int e = 0; e < 3; ++e) {
    Logs logs;
    logs.set("loss", 1.0 / (e + 1));
    logs.set("accuracy", 0.5 + e * 0.1);
    csv.on_epoch_end(e, logs);
    curves.on_epoch_end(e, logs);
    EXPECT_TRUE(fs::exists(dir / "curves.png")) << "after epoch " << e;
  }
  csv.on_train_end({});
  History h = read_history_csv(dir / "history.csv");
  EXPECT_EQ(h.epoch, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(h.history.at("loss"), (std::vector<double>{1.0, 0.5, 1.0 / 3}));
  EXPECT_EQ(h.history.at("accuracy")[2], 0.7);
  EXPECT_EQ(decode(dir / "curves.png").width, 800u);
}

TEST(Plot, CurvesCallbackChecksItsPathFirstThenNeverStopsTraining) {
  testing::TempDir dir;
  plot::LearningCurvesPlotter bad_name(dir / "curves.gif"), no_folder(dir / "missing" / "curves.png");
  EXPECT_THROW(bad_name.on_train_begin({}), ValueError);
  EXPECT_THROW(no_folder.on_train_begin({}), IoError);

  fs::create_directory(dir / "run");
  plot::LearningCurvesPlotter curves(dir / "run" / "curves.png");
  curves.on_train_begin({});
  Logs logs;
  logs.set("loss", 0.5);
  curves.on_epoch_end(0, logs);
  EXPECT_TRUE(fs::exists(dir / "run" / "curves.png"));
  fs::remove_all(dir / "run");  // the folder goes away mid-run
  ::testing::internal::CaptureStderr();
  EXPECT_NO_THROW(curves.on_epoch_end(1, logs));
  EXPECT_NO_THROW(curves.on_epoch_end(2, logs));
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("warning: the learning curves were not redrawn"), std::string::npos) << err;
  EXPECT_EQ(err.find("warning", err.find("warning") + 1), std::string::npos) << "warned twice: " << err;
}

TEST(Plot, MalformedHistoryCsvIsExplained) {
  testing::TempDir dir;
  auto error_for = [&](const std::string& text) {
    testing::write_bytes(dir / "h.csv", text);
    try {
      read_history_csv(dir / "h.csv");
    } catch (const IoError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error_for("").find("is empty"), std::string::npos);
  EXPECT_NE(error_for("loss,accuracy\n0.5,0.5\n").find("expected 'epoch'"), std::string::npos);
  EXPECT_NE(error_for("epoch\n0\n").find("no columns besides"), std::string::npos);
  EXPECT_NE(error_for("epoch,loss\n").find("no epochs"), std::string::npos);
  EXPECT_NE(error_for("epoch,loss,loss\n0,1,1\n").find("twice"), std::string::npos);
  std::string missing = error_for("epoch,loss,val_loss\n0,1,2\n1,0.5\n");
  EXPECT_NE(missing.find("line 3 is missing the 'val_loss' column"), std::string::npos) << missing;
  std::string extra = error_for("epoch,loss\n0,1,2\n");
  EXPECT_NE(extra.find("line 2 has 3 cells, expected 2"), std::string::npos) << extra;
  std::string word = error_for("epoch,loss\n0,1\n1,abc\n");
  EXPECT_NE(word.find("line 3, column 'loss': 'abc' is not a number"), std::string::npos) << word;
  std::string epoch = error_for("epoch,loss\n0.5,1\n");
  EXPECT_NE(epoch.find("'0.5' is not an epoch number"), std::string::npos) << epoch;
  for (const char* huge : {"1e300", "2147483648", "-1", "inf", "nan"}) {
    std::string out_of_range = error_for("epoch,loss\n" + std::string(huge) + ",1\n");
    EXPECT_NE(out_of_range.find("'" + std::string(huge) + "' is not an epoch number"), std::string::npos)
        << out_of_range;
  }
  // Gaps (empty or NA cells) read as NaN; CRLF line ends are fine.
  testing::write_bytes(dir / "h.csv", "epoch,loss,val_loss\r\n0,1,NA\r\n1,0.5,\r\n");
  History h = read_history_csv(dir / "h.csv");
  EXPECT_TRUE(std::isnan(h.history.at("val_loss")[0]));
  EXPECT_TRUE(std::isnan(h.history.at("val_loss")[1]));
  EXPECT_EQ(h.history.at("loss")[1], 0.5);
  EXPECT_THROW(read_history_csv(dir / "absent.csv"), IoError);
}

}  // namespace
}  // namespace kiln
