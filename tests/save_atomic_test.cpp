// Saving is all or nothing: a model folder holds the old model or the new one, whatever moment
// the saving process dies at, and the folder's other files survive a save.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <set>

#include "helpers.hpp"

namespace kiln {
namespace {

using layers::Dense, layers::Flatten;

// Every weight and the metadata say which version of the model this is.
void set_version(Sequential& model, int version) {
  std::fill_n(model.weights().data(), model.weights().size(), static_cast<float>(version));
  model.metadata["version"] = std::to_string(version);
}

TEST(SaveAtomic, AFolderKilledMidSaveHoldsOneWholeVersion) {
  testing::TempDir tmp;
  const auto dir = tmp / "model";
  utils::set_random_seed(3);
  Sequential model({Flatten({16, 16}), Dense(200, "relu"), Dense(10, "softmax")});  // ~200 KB of weights
  set_version(model, 0);
  // The kills land within about 15 saves' time, measured here: a sanitized build on a busy
  // machine saves ten times slower than a release build, and a fixed window then ends before the
  // first save does.
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i) model.save(dir);
  const auto save_us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count() / 3;
  const auto window_us = static_cast<uint32_t>(std::max<int64_t>(15 * save_us, 30000));
  std::mt19937 rng(5);
  std::set<int> seen;
  for (int round = 1; round <= 40; ++round) {
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {  // saves new versions until it is killed
      for (int k = 0;; ++k) {
        set_version(model, round * 10000 + k);
        model.save(dir);
      }
    }
    usleep(static_cast<useconds_t>(rng() % window_us));
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    Sequential loaded = load_model(dir);
    int version = std::stoi(loaded.metadata.at("version"));
    seen.insert(version);
    for (const auto& layer : loaded.layers())
      for (const auto& p : layer->params())
        for (float v : p.value.values())
          ASSERT_EQ(v, static_cast<float>(version)) << "round " << round << ": " << layer->name() << "/" << p.name
                                                    << " disagrees with the config's version";
  }
  EXPECT_GT(seen.size(), 10u) << "the kills should land after different numbers of saves";
  // The next save clears what the killed saves left beside the folder.
  set_version(model, 1);
  model.save(dir);
  std::vector<std::string> entries;
  for (const auto& e : std::filesystem::directory_iterator(tmp.path())) entries.push_back(e.path().filename());
  EXPECT_EQ(entries, std::vector<std::string>{"model"});
}

TEST(SaveAtomic, OtherFilesInTheFolderAndLinksToItSurviveASave) {
  testing::TempDir tmp;
  Sequential model({Flatten({2, 2}), Dense(2, "softmax")});
  set_version(model, 1);
  model.save(tmp / "m");
  testing::write_bytes(tmp / "m" / "history.csv", "epoch,loss\n0,1.5\n");
  std::filesystem::create_directory(tmp / "m" / "assets");
  testing::write_bytes(tmp / "m" / "assets" / "note.txt", "kept");
  std::filesystem::create_directory_symlink("m", tmp / "link");
  set_version(model, 2);
  model.save(tmp / "link");
  EXPECT_TRUE(std::filesystem::is_symlink(tmp / "link")) << "saving through a link replaces the folder it points to";
  EXPECT_EQ(load_model(tmp / "m").metadata.at("version"), "2");
  EXPECT_EQ(io::read_file(tmp / "m" / "history.csv"), "epoch,loss\n0,1.5\n");
  EXPECT_EQ(io::read_file(tmp / "m" / "assets" / "note.txt"), "kept");
  testing::write_bytes(tmp / "file", "x");
  EXPECT_THROW(model.save(tmp / "file"), IoError);
}

}  // namespace
}  // namespace kiln
