#include <fstream>
#include <regex>
#include <sstream>

#include "helpers.hpp"

namespace kiln {
namespace {

Logs sample_logs() {
  Logs logs;
  logs.set("loss", 0.40123);
  logs.set("accuracy", 0.859375);
  logs.set("val_loss", 0.00012);
  return logs;
}

TEST(Progbar, FinishedLineLooksLikeKeras) {
  std::ostringstream out;
  Progbar bar(1719, 1, out, false);
  bar.update(100, sample_logs());  // not a terminal: nothing until the line is done
  EXPECT_EQ(out.str(), "");
  bar.update(1719, sample_logs(), true);
  std::regex expected(
      R"(1719/1719 \[={30}\] - \d+s \d+(us|ms|s)/step - loss: 0\.4012 - accuracy: 0\.8594 - val_loss: 1\.2000e-04\n)");
  EXPECT_TRUE(std::regex_match(out.str(), expected)) << out.str();
}

TEST(Progbar, InPlaceBarShowsProgressAndEta) {
  std::ostringstream out;
  Progbar bar(10, 1, out, true);
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  bar.update(5, sample_logs());
  std::regex expected(R"(\r 5/10 \[={14}>\.{15}\] - ETA: \d+s - loss: 0\.4012 - accuracy: 0\.8594 - val_loss: 1\.2000e-04)");
  EXPECT_TRUE(std::regex_match(out.str(), expected)) << out.str();
}

TEST(Progbar, VerboseTwoPrintsOneLine) {
  std::ostringstream out;
  Progbar bar(1719, 2, out, false);
  bar.update(1719, sample_logs(), true);
  std::regex expected(R"(1719/1719 - \d+s - loss: 0\.4012 - accuracy: 0\.8594 - val_loss: 1\.2000e-04 - \d+s/epoch - \d+(us|ms|s)/step\n)");
  EXPECT_TRUE(std::regex_match(out.str(), expected)) << out.str();
}

TEST(CSVLogger, WritesKerasCsvLoggerFormat) {
  testing::TempDir dir;
  CSVLogger csv((dir / "history.csv").string());
  csv.on_train_begin({});
  Logs logs;
  logs.set("loss", 0.5);
  logs.set("accuracy", 0.8593999743461609);
  logs.set("val_loss", 0.25);
  logs.set("val_accuracy", 1.0);
  csv.on_epoch_end(0, logs);
  csv.on_epoch_end(1, logs);
  csv.on_train_end({});
  EXPECT_EQ(io::read_file(dir / "history.csv"),
            "epoch,accuracy,loss,val_accuracy,val_loss\n"
            "0,0.8593999743461609,0.5,1.0,0.25\n"
            "1,0.8593999743461609,0.5,1.0,0.25\n");
}

TEST(CSVLogger, UnwritablePathIsAnError) {
  CSVLogger csv("/nonexistent-folder/history.csv");
  EXPECT_THROW(csv.on_train_begin({}), IoError);
}

}  // namespace
}  // namespace kiln
