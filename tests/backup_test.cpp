// BackupAndRestore: a fit stopped at any point continues from its last epoch's backup and ends
// with the weights and history, to the bit, of the uninterrupted run; failed writes leave the
// last backup intact; a backup from another setup is refused.
#include <signal.h>
#include <sys/resource.h>

#include <cstring>

#include "helpers.hpp"

namespace kiln {
namespace {

struct Crash : std::runtime_error {
  Crash() : std::runtime_error("simulated crash") {}
};

// A model with every kind of training state: dropout and batch normalization (random streams,
// moving statistics) and the optimizer under test.
Model make_model(const OptimizerRef& optimizer) {
  utils::set_random_seed(5);
  Sequential model({layers::Dense({.units = 16, .input_shape = {6}}), layers::BatchNormalization(),
                    layers::ReLU(), layers::Dropout(0.3), layers::Dense(3, "softmax")});
  model.compile({.optimizer = optimizer, .metrics = {"accuracy"}});
  return model;
}

struct Data {
  Tensor x = testing::random_tensor({40, 6}, 11);
  Labels y = testing::sign_labels(x);
};

struct Outcome {
  std::vector<Tensor> weights;
  History history;
};

// Fits 4 epochs with a backup in `dir`; `extra` runs after the backup callback (a crash).
Outcome fit_with_backup(const std::function<OptimizerRef()>& optimizer, const std::filesystem::path& dir,
                    Callback* extra = nullptr) {
  Data data;
  Model model = make_model(optimizer());
  BackupAndRestore backup(dir);
  FitOptions options{.epochs = 4, .batch_size = 8, .validation_data = ValidationData{data.x, data.y},
                     .verbose = 0, .seed = 9, .callbacks = {&backup}};
  if (extra) options.callbacks.push_back(extra);
  History history = model.fit(data.x, data.y, options);
  return {model.get_weights(), history};
}

void expect_same(const Outcome& a, const Outcome& b) {
  ASSERT_EQ(a.weights.size(), b.weights.size());
  for (size_t k = 0; k < a.weights.size(); ++k)
    EXPECT_EQ(0, std::memcmp(a.weights[k].data(), b.weights[k].data(), sizeof(float) * a.weights[k].size()))
        << "weight " << k;
  EXPECT_EQ(a.history.epoch, b.history.epoch);
  EXPECT_EQ(a.history.history, b.history.history);
}

const std::vector<std::pair<std::string, std::function<OptimizerRef()>>> kOptimizers = {
    {"adam_ema", [] { return OptimizerRef(optimizers::Adam({.learning_rate = 0.01, .use_ema = true})); }},
    {"nadam", [] { return OptimizerRef(optimizers::Nadam({.learning_rate = 0.01})); }},
    {"sgd_momentum", [] { return OptimizerRef(optimizers::SGD({.learning_rate = 0.05, .momentum = 0.9})); }},
    {"rmsprop_centered",
     [] { return OptimizerRef(optimizers::RMSprop({.momentum = 0.5, .centered = true, .clipnorm = 1.0})); }}};

TEST(BackupAndRestore, ARunStoppedAnywhereEndsAsTheUninterruptedOne) {
  for (const auto& [name, optimizer] : kOptimizers) {
    SCOPED_TRACE(name);
    testing::TempDir tmp;
    const Outcome reference = fit_with_backup(optimizer, tmp / "reference");
    EXPECT_FALSE(std::filesystem::exists(tmp / "reference")) << "a finished fit removes its backup";
    // Stopped after an epoch's backup, and in the middle of an epoch (which is run again).
    for (const auto& crash_at : {std::pair{1, -1}, std::pair{2, 2}, std::pair{0, 4}}) {
      const int crash_epoch = crash_at.first, crash_batch = crash_at.second;
      SCOPED_TRACE("crash at epoch " + std::to_string(crash_epoch) + " batch " + std::to_string(crash_batch));
      const auto dir = tmp / ("crash" + std::to_string(crash_epoch) + std::to_string(crash_batch));
      int epoch_now = 0;
      LambdaCallback crash({.on_epoch_begin = [&](int epoch, const Logs&) { epoch_now = epoch; },
                            .on_epoch_end =
                                [&](int epoch, const Logs&) {
                                  if (crash_batch < 0 && epoch == crash_epoch) throw Crash();
                                },
                            .on_train_batch_end =
                                [&](int64_t batch, const Logs&) {
                                  if (epoch_now == crash_epoch && batch == crash_batch) throw Crash();
                                }});
      EXPECT_THROW(fit_with_backup(optimizer, dir, &crash), Crash);
      // A run stopped before its first epoch ended left no backup and starts afresh.
      EXPECT_EQ(std::filesystem::exists(dir / "state.json"), crash_epoch > 0);
      const Outcome resumed = fit_with_backup(optimizer, dir);
      expect_same(reference, resumed);
    }
  }
}

TEST(BackupAndRestore, SaysWhereItContinuesAndKeepsTheBackupWhenAsked) {
  testing::TempDir tmp;
  Data data;
  auto adam = [] { return OptimizerRef(optimizers::Adam()); };
  {
    Model model = make_model(adam());
    BackupAndRestore backup(tmp / "b", {.delete_checkpoint = false});
    model.fit(data.x, data.y, {.epochs = 2, .verbose = 0, .seed = 1, .callbacks = {&backup}});
    EXPECT_EQ(backup.restored_epochs(), 0);
    EXPECT_TRUE(backup.has_backup());
  }
  Model model = make_model(adam());
  BackupAndRestore backup(tmp / "b", {.delete_checkpoint = false});
  std::ostringstream out;
  History history = model.fit(data.x, data.y, {.epochs = 3, .verbose = 2, .seed = 1, .callbacks = {&backup}, .out = &out});
  EXPECT_EQ(backup.restored_epochs(), 2);
  EXPECT_NE(out.str().find("Restored the backup in " + (tmp / "b").string() + ": continuing after epoch 2"),
            std::string::npos)
      << out.str();
  EXPECT_NE(out.str().find("Epoch 3/3"), std::string::npos) << out.str();
  EXPECT_EQ(out.str().find("Epoch 1/3"), std::string::npos) << out.str();
  EXPECT_EQ(history.epoch, (std::vector<int>{0, 1, 2}));
}

TEST(BackupAndRestore, ABackupFromAnotherSetupIsRefused) {
  testing::TempDir tmp;
  Data data;
  {
    Model model = make_model(optimizers::Adam());
    BackupAndRestore backup(tmp / "b", {.delete_checkpoint = false});
    model.fit(data.x, data.y, {.epochs = 1, .verbose = 0, .callbacks = {&backup}});
  }
  auto error_of = [&](Model& model) {
    BackupAndRestore backup(tmp / "b");
    try {
      model.fit(data.x, data.y, {.epochs = 2, .verbose = 0, .callbacks = {&backup}});
    } catch (const IoError& e) {
      return std::string(e.what());
    }
    return std::string("no IoError");
  };
  Model sgd = make_model(optimizers::SGD());
  EXPECT_NE(error_of(sgd).find("the backup was made with Adam, this fit uses SGD"), std::string::npos) << error_of(sgd);
  Model amsgrad = make_model(optimizers::Adam({.amsgrad = true}));
  EXPECT_NE(error_of(amsgrad).find("Adam's state has tensors m, v, v_hat, the checkpoint has m, v"), std::string::npos) << error_of(amsgrad);
  utils::set_random_seed(5);
  Sequential wider({layers::Dense({.units = 17, .input_shape = {6}}), layers::Dense(3, "softmax")});
  wider.compile({.optimizer = optimizers::Adam()});
  EXPECT_NE(error_of(wider).find("weights.safetensors"), std::string::npos) << error_of(wider);
  testing::write_bytes(tmp / "b" / "state.json", "{\"epoch\": ");
  Model adam = make_model(optimizers::Adam());
  EXPECT_NE(error_of(adam).find("state.json: not valid JSON"), std::string::npos) << error_of(adam);
}

TEST(BackupAndRestore, AFullDiskStopsFitAndLeavesTheLastBackupIntact) {
  testing::TempDir tmp;
  Data data;
  Model model = make_model(optimizers::Adam());
  BackupAndRestore backup(tmp / "b");
  rlimit old{};
  ASSERT_EQ(0, getrlimit(RLIMIT_FSIZE, &old));
  auto* previous = signal(SIGXFSZ, SIG_IGN);  // a write past the limit then fails with EFBIG
  std::string first_state;
  LambdaCallback fill_disk({.on_epoch_end = [&](int epoch, const Logs&) {
    if (epoch != 0) return;
    first_state = io::read_file(tmp / "b" / "state.json");
    rlimit tiny = old;
    tiny.rlim_cur = 512;
    setrlimit(RLIMIT_FSIZE, &tiny);
  }});
  std::string error = "no IoError";
  try {
    model.fit(data.x, data.y, {.epochs = 3, .verbose = 0, .callbacks = {&backup, &fill_disk}});
  } catch (const IoError& e) {
    error = e.what();
  }
  setrlimit(RLIMIT_FSIZE, &old);
  signal(SIGXFSZ, previous);
  EXPECT_NE(error.find("BackupAndRestore could not write the backup of epoch 2 to " + (tmp / "b").string()),
            std::string::npos)
      << error;
  EXPECT_EQ(io::read_file(tmp / "b" / "state.json"), first_state);
  Model again = make_model(optimizers::Adam());
  BackupAndRestore restore(tmp / "b");
  again.fit(data.x, data.y, {.epochs = 3, .verbose = 0, .callbacks = {&restore}});
  EXPECT_EQ(restore.restored_epochs(), 1);
}

}  // namespace
}  // namespace kiln
