// Keras's standard callbacks (training_callbacks.hpp): each driven with scripted logs for exact
// sequences, and through fit on a tiny model; CSVLogger's append; the monitor trap.
#include <cmath>
#include <cstring>
#include <sstream>

#include "helpers.hpp"

namespace kiln {
namespace {

using layers::Dense;

Tensor random_x(int64_t n, uint64_t seed) { return testing::random_tensor({n, 6}, seed); }
std::vector<int32_t> labels(int64_t n, uint64_t salt = 0) {
  std::vector<int32_t> y(n);
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<int32_t>((i * 7 + salt * (i % 5)) % 3);
  return y;
}

Sequential tiny_model(OptimizerRef optimizer = "sgd", uint64_t seed = 1) {
  utils::set_random_seed(seed);
  Sequential model({Dense({.units = 3, .activation = "softmax", .input_shape = {6}})});
  model.compile({.optimizer = std::move(optimizer), .metrics = {"accuracy"}});
  return model;
}

bool same_weights(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].shape() != b[i].shape() ||
        std::memcmp(a[i].data(), b[i].data(), sizeof(float) * a[i].size()) != 0)
      return false;
  return true;
}

// Every weight of the model set to `value`.
void fill_weights(Model& model, float value) {
  auto weights = model.get_weights();
  for (auto& w : weights) std::fill(w.data(), w.data() + w.size(), value);
  model.set_weights(weights);
}

// Runs `cb` as fit would over epochs whose logs hold loss = 1 and `key` = values[epoch];
// before_epoch_end(epoch) runs before each on_epoch_end. Returns the epoch after which it asked
// fit to stop, or -1.
int drive(
    Callback& cb, Model& model, const std::string& key, const std::vector<double>& values,
    std::ostream* out = nullptr, const std::function<void(int)>& before_epoch_end = [](int) {}) {
  std::ostringstream sink;
  cb.set_model(&model);
  cb.set_params({.epochs = static_cast<int>(values.size()),
                 .steps = 1,
                 .verbose = 0,
                 .out = out ? out : &sink});
  model.stop_training = false;
  cb.on_train_begin({});
  int stopped = -1;
  for (int e = 0; e < static_cast<int>(values.size()) && stopped < 0; ++e) {
    cb.on_epoch_begin(e, {});
    Logs logs;
    logs.set("loss", 1.0);
    logs.set(key, values[e]);
    before_epoch_end(e);
    cb.on_epoch_end(e, logs);
    if (model.stop_training) stopped = e;
  }
  cb.on_train_end({});
  return stopped;
}

// ---------------------------------------------------------------------------------------------
// Monitor

TEST(TrainingCallbacks, MonitorPicksTheDirectionAsKerasDoes) {
  EXPECT_FALSE(Monitor("T", "val_loss", "auto").maximize());
  EXPECT_FALSE(Monitor("T", "loss", "auto").maximize());
  EXPECT_TRUE(Monitor("T", "val_accuracy", "auto").maximize());
  EXPECT_TRUE(Monitor("T", "acc", "auto").maximize());
  EXPECT_TRUE(Monitor("T", "sparse_categorical_accuracy", "auto").maximize());
  EXPECT_TRUE(Monitor("T", "val_auc", "auto").maximize());
  EXPECT_TRUE(Monitor("T", "loss", "max").maximize());
  EXPECT_FALSE(Monitor("T", "accuracy", "min").maximize());
  try {
    Monitor("EarlyStopping", "val_loss", "maximum");
    FAIL() << "a bad mode must throw";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "EarlyStopping: mode must be \"auto\", \"min\" or \"max\", received \"maximum\""),
              std::string::npos)
        << e.what();
  }
}

TEST(TrainingCallbacks, MonitorImprovementHonoursMinDelta) {
  Monitor lower("T", "val_loss", "auto", -0.1);  // |min_delta|, as Keras
  EXPECT_DOUBLE_EQ(lower.min_delta(), 0.1);
  EXPECT_TRUE(lower.is_improvement(5.0, std::nullopt));
  EXPECT_TRUE(lower.is_improvement(0.85, 1.0));
  EXPECT_FALSE(lower.is_improvement(0.95, 1.0));
  EXPECT_FALSE(lower.is_improvement(1.5, 1.0));
  Monitor higher("T", "val_accuracy", "auto", 0.05);
  EXPECT_TRUE(higher.is_improvement(0.9, 0.8));
  EXPECT_FALSE(higher.is_improvement(0.84, 0.8));
  EXPECT_FALSE(higher.is_improvement(NAN, 0.8));
  EXPECT_TRUE(higher.is_improvement(NAN, std::nullopt)) << "Keras: anything beats no reference";
  EXPECT_EQ(lower.worst(), INFINITY);
  EXPECT_EQ(higher.worst(), -INFINITY);
}

TEST(TrainingCallbacks, MonitorOfAMissingValueListsTheNamesThereAre) {
  Logs logs;
  for (const char* k : {"loss", "accuracy", "val_loss", "val_accuracy"}) logs.set(k, 0.5);
  EXPECT_EQ(Monitor("T", "val_accuracy", "auto").value(logs), 0.5);
  try {
    Monitor("ReduceLROnPlateau", "val_acc", "auto").value(logs);
    FAIL() << "a missing monitor must throw";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "ReduceLROnPlateau: monitor='val_acc' is not available in the logs, which "
                  "have: loss, accuracy, val_loss, val_accuracy"),
              std::string::npos)
        << e.what();
  }
  Logs train_only;
  train_only.set("loss", 1.0);
  try {
    Monitor("EarlyStopping", "val_loss", "auto").value(train_only);
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("validation_data or validation_split"), std::string::npos)
        << e.what();
  }
}

// The trap: each monitoring callback told to watch a name the logs lack ends fit at the end of
// the first epoch with a ValueError listing the names there are.
TEST(TrainingCallbacks, AMonitorThatNamesNothingStopsFitAfterTheFirstEpoch) {
  testing::TempDir dir;
  EarlyStopping early({.monitor = "val_acc"});
  ReduceLROnPlateau reduce({.monitor = "val_acc"});
  ModelCheckpoint checkpoint((dir / "m").string(), {.monitor = "val_acc", .save_best_only = true});
  for (Callback* cb : std::initializer_list<Callback*>{&early, &reduce, &checkpoint}) {
    Sequential model = tiny_model();
    int epochs_begun = 0, batches = 0;
    LambdaCallback count({.on_epoch_begin = [&](int, const Logs&) { ++epochs_begun; },
                          .on_train_batch_end = [&](int64_t, const Logs&) { ++batches; }});
    try {
      model.fit(random_x(40, 1), labels(40),
                {.epochs = 5,
                 .batch_size = 8,
                 .validation_split = 0.2,
                 .verbose = 0,
                 .callbacks = {&count, cb}});
      FAIL() << "fit must throw";
    } catch (const ValueError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("monitor='val_acc' is not available"), std::string::npos) << what;
      EXPECT_NE(what.find("loss, accuracy, val_loss, val_accuracy"), std::string::npos) << what;
    }
    EXPECT_EQ(epochs_begun, 1);
    EXPECT_EQ(batches, 4);
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "m"));
}

// ---------------------------------------------------------------------------------------------
// EarlyStopping

TEST(TrainingCallbacks, EarlyStoppingStopsWhenPatienceRunsOut) {
  Sequential model = tiny_model();
  {
    EarlyStopping early({.patience = 2});
    // best 1.0, then 0.9; 0.95 and 0.92 do not improve: the second of them ends it.
    EXPECT_EQ(drive(early, model, "val_loss", {1.0, 0.9, 0.95, 0.92, 0.91, 0.5}), 3);
    EXPECT_EQ(early.stopped_epoch(), 3);
    EXPECT_EQ(early.best(), 0.9);
    EXPECT_EQ(early.best_epoch(), 1);
    EXPECT_EQ(early.wait(), 2);
  }
  {
    EarlyStopping early;  // patience 0: the first epoch that does not improve
    EXPECT_EQ(drive(early, model, "val_loss", {1.0, 0.9, 0.8, 0.85, 0.7}), 3);
    EXPECT_EQ(drive(early, model, "val_loss", {1.0, 1.0}), 1) << "equal is no improvement";
    EXPECT_EQ(drive(early, model, "val_loss", {1.0, 0.9, 0.8}), -1);
    EXPECT_EQ(early.stopped_epoch(), 0) << "on_train_begin starts each run afresh";
  }
  {
    EarlyStopping early({.min_delta = 0.1, .patience = 1});  // 0.85 is 0.15 better, 0.8 only 0.05
    EXPECT_EQ(drive(early, model, "val_loss", {1.0, 0.85, 0.8, 0.5}), 2);
  }
  {
    EarlyStopping early({.monitor = "val_accuracy", .patience = 1});  // auto: higher is better
    EXPECT_EQ(drive(early, model, "val_accuracy", {0.5, 0.6, 0.7, 0.65, 0.64, 0.9}), 3);
    EarlyStopping lower({.monitor = "val_accuracy", .patience = 1, .mode = "min"});
    EXPECT_EQ(drive(lower, model, "val_accuracy", {0.5, 0.4, 0.45, 0.3}), 2);
  }
}

TEST(TrainingCallbacks, EarlyStoppingBaselineMustBeBeaten) {
  Sequential model = tiny_model();
  // Without a baseline, 0.9 is the best and two epochs wait; with baseline 0.5 it never counted
  // as an improvement, so the wait started at epoch 0 and runs out one epoch sooner.
  EarlyStopping plain({.patience = 2});
  EXPECT_EQ(drive(plain, model, "val_loss", {0.9, 0.95, 0.97, 0.99}), 2);
  EarlyStopping baseline({.patience = 2, .baseline = 0.5});
  EXPECT_EQ(drive(baseline, model, "val_loss", {0.9, 0.95, 0.97, 0.99}), 1);
  // Beating the baseline restarts the wait.
  EarlyStopping beaten({.patience = 2, .baseline = 0.5});
  EXPECT_EQ(drive(beaten, model, "val_loss", {0.9, 0.4, 0.45, 0.46, 0.47}), 3);
}

TEST(TrainingCallbacks, EarlyStoppingWaitsStartFromEpoch) {
  Sequential model = tiny_model();
  EarlyStopping early;
  EXPECT_EQ(drive(early, model, "val_loss", {1, 2, 3, 4, 5}), 1);
  EarlyStopping warm({.start_from_epoch = 2});
  EXPECT_EQ(drive(warm, model, "val_loss", {1, 2, 3, 4, 5}), 3);
  EXPECT_EQ(warm.best_epoch(), 2);
}

TEST(TrainingCallbacks, EarlyStoppingRestoresTheBestEpochsWeights) {
  Sequential model = tiny_model();
  auto mark = [&](int epoch) { fill_weights(model, static_cast<float>(epoch + 1)); };
  std::ostringstream out;
  EarlyStopping early({.patience = 3, .verbose = 1, .restore_best_weights = true});
  EXPECT_EQ(drive(early, model, "val_loss", {0.9, 0.5, 0.7, 0.8, 0.6}, &out, mark), 4);
  for (const auto& w : model.get_weights())
    for (float v : w.values()) ASSERT_EQ(v, 2.0f) << "epoch 1's weights";
  EXPECT_EQ(
      out.str(),
      "Epoch 5: early stopping\nRestoring model weights from the end of the best epoch: 2.\n");
  // Keras 3 restores at the end of training even when it did not stop.
  EarlyStopping not_stopped({.patience = 10, .restore_best_weights = true});
  EXPECT_EQ(drive(not_stopped, model, "val_loss", {0.9, 0.5, 0.7}, nullptr, mark), -1);
  for (const auto& w : model.get_weights())
    for (float v : w.values()) ASSERT_EQ(v, 2.0f);
  // Nothing restored without the option.
  EarlyStopping plain({.patience = 1});
  EXPECT_EQ(drive(plain, model, "val_loss", {0.9, 0.5, 0.7}, nullptr, mark), 2);
  for (const auto& w : model.get_weights())
    for (float v : w.values()) ASSERT_EQ(v, 3.0f);
}

TEST(TrainingCallbacks, EarlyStoppingEndsFitAndRestoresWeightsThroughFit) {
  // min_delta 100: no epoch after the first improves, so patience 2 stops after epoch 2.
  {
    Sequential model = tiny_model();
    std::ostringstream out;
    EarlyStopping early({.monitor = "loss", .min_delta = 100, .patience = 2, .verbose = 1});
    History h = model.fit(
        random_x(40, 1), labels(40),
        {.epochs = 10, .batch_size = 8, .verbose = 0, .callbacks = {&early}, .out = &out});
    EXPECT_EQ(h.epoch, (std::vector<int>{0, 1, 2}));
    EXPECT_EQ(out.str(), "Epoch 3: early stopping\n");
  }
  // Fitting random labels at a high rate: the validation loss is lowest at some epoch before
  // the last, whose weights come back.
  Sequential model = tiny_model(optimizers::SGD({.learning_rate = 1.0}), 3);
  std::vector<std::vector<Tensor>> weights;
  LambdaCallback record(
      {.on_epoch_end = [&](int, const Logs&) { weights.push_back(model.get_weights()); }});
  EarlyStopping early({.patience = 100, .restore_best_weights = true});
  History h = model.fit(random_x(48, 4), labels(48, 2),
                        {.epochs = 8,
                         .batch_size = 8,
                         .validation_data = ValidationData(random_x(24, 5), labels(24, 3)),
                         .verbose = 0,
                         .seed = 7,
                         .callbacks = {&record, &early}});
  const auto& val_loss = h.history["val_loss"];
  ASSERT_EQ(val_loss.size(), 8u);
  const size_t best = std::min_element(val_loss.begin(), val_loss.end()) - val_loss.begin();
  EXPECT_LT(best, 7u) << "the test wants a best epoch before the last";
  EXPECT_EQ(early.best_epoch(), static_cast<int>(best));
  EXPECT_TRUE(same_weights(model.get_weights(), weights[best]));
  EXPECT_FALSE(same_weights(model.get_weights(), weights.back()));
}

// ---------------------------------------------------------------------------------------------
// ModelCheckpoint

std::string path_for(const std::string& pattern, int epoch, int64_t batch, const Logs& logs) {
  return ModelCheckpoint(pattern).file_path(epoch, batch, logs);
}

TEST(TrainingCallbacks, ModelCheckpointFillsFilePathTemplatesAsPythonDoes) {
  Logs logs;
  logs.set("loss", 0.25);
  logs.set("val_loss", 0.51234);
  logs.set("accuracy", 0.00051234);
  EXPECT_EQ(path_for("ckpt-{epoch:02d}-{val_loss:.2f}", 4, -1, logs), "ckpt-05-0.51")
      << "epoch is 1-based";
  EXPECT_EQ(path_for("m{epoch}", 0, -1, logs), "m1");
  EXPECT_EQ(path_for("m{epoch}-{batch}", 2, 9, logs), "m3-10") << "batch is 1-based";
  // Expected values from Python's str.format.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{epoch:>4}", "   5"},
      {"{epoch:<4}|", "5   |"},
      {"{epoch:^5}|", "  5  |"},
      {"{epoch:+d}", "+5"},
      {"{epoch:x<4d}", "5xxx"},
      {"{epoch:.2f}", "5.00"},
      {"{epoch:03}", "005"},
      {"{val_loss}", "0.51234"},
      {"{val_loss:.3e}", "5.123e-01"},
      {"{accuracy:.3e}", "5.123e-04"},
      {"{val_loss:.1%}", "51.2%"},
      {"{val_loss:+.2f}", "+0.51"},
      {"{val_loss:.3}", "0.512"},
      {"{loss:g}", "0.25"},
      {"{val_loss:E}", "5.123400E-01"},
      {"{val_loss:010.4f}", "00000.5123"},
      {"{{x}}-{loss:.1f}", "{x}-0.2"},
      {"{loss:=+8.2f}", "+   0.25"},
      {"{accuracy:.3}", "0.000512"},
      {"{loss:<07}", "0.25000"},
  };
  for (const auto& [pattern, expected] : cases)
    EXPECT_EQ(path_for(pattern, 4, -1, logs), expected) << pattern;
  Logs odd;
  odd.set("big", 123456.0);
  odd.set("hundred", 100.0);
  odd.set("one", 1.0);
  odd.set("inf", INFINITY);
  odd.set("nan", NAN);
  odd.set("neg", -0.51234);
  odd.set("tiny", 1e-5);
  const std::vector<std::pair<std::string, std::string>> more = {
      {"{big:.3}", "1.23e+05"},    {"{hundred:.3}", "1e+02"},
      {"{one:.3}", "1.0"},         {"{one}", "1.0"},
      {"{inf:.2f}", "inf"},        {"{nan:.2f}", "nan"},
      {"{neg:08.3f}", "-000.512"}, {"{tiny}", "1e-05"},
      {"{big:.2g}", "1.2e+05"},    {"{hundred}", "100.0"},
  };
  for (const auto& [pattern, expected] : more)
    EXPECT_EQ(path_for(pattern, 0, -1, odd), expected) << pattern;
}

TEST(TrainingCallbacks, ModelCheckpointTemplateErrorsSayWhatIsWrong) {
  Logs logs;
  logs.set("loss", 0.25);
  logs.set("val_loss", 0.5);
  try {
    path_for("ckpt-{val_acc:.2f}", 0, -1, logs);
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "names 'val_acc', which is not available; available: epoch, loss, val_loss"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(path_for("m-{batch}", 0, -1, logs), ValueError)
      << "{batch} only when saving by batches";
  EXPECT_THROW(path_for("m-{loss:d}", 0, -1, logs), ValueError)
      << "a float cannot be formatted as d";
  for (const char* bad : {"ckpt-{epoch", "ckpt-}", "{}", "{epoch:x}", "{epoch:,}", "{epoch!r}",
                          "{epoch:.}", "{epoch:02.3d}"})
    EXPECT_THROW(ModelCheckpoint{bad}, ValueError) << bad;
  EXPECT_THROW(ModelCheckpoint("w.bin", {.save_weights_only = true}), ValueError);
  EXPECT_THROW(ModelCheckpoint("m.safetensors"), ValueError);
  EXPECT_THROW(ModelCheckpoint("m", {.save_freq = "batch"}), ValueError);
  EXPECT_THROW(ModelCheckpoint("m", {.save_freq = 0}), ValueError);
  EXPECT_NO_THROW(ModelCheckpoint("m", {.save_freq = 5}));
}

TEST(TrainingCallbacks, ModelCheckpointSavesModelsThatLoadAndPredictAsTheyWere) {
  testing::TempDir dir;
  Sequential model = tiny_model();
  std::vector<std::vector<Tensor>> weights;
  ModelCheckpoint checkpoint((dir / "m-{epoch:02d}").string());
  LambdaCallback record(
      {.on_epoch_end = [&](int, const Logs&) { weights.push_back(model.get_weights()); }});
  Tensor x = random_x(40, 1);
  model.fit(x, labels(40),
            {.epochs = 3, .batch_size = 8, .verbose = 0, .callbacks = {&checkpoint, &record}});
  for (int e = 0; e < 3; ++e) {
    const auto path = dir / ("m-0" + std::to_string(e + 1));
    ASSERT_TRUE(std::filesystem::exists(path / "config.json")) << path;
    Model loaded = load_model(path);
    Model then = clone_model(model);
    then.set_weights(weights[e]);
    Tensor got = loaded.predict(x, {}), want = then.predict(x, {});
    ASSERT_EQ(got.shape(), want.shape());
    EXPECT_EQ(0, std::memcmp(got.data(), want.data(), sizeof(float) * got.size())) << "epoch " << e;
  }
  EXPECT_FALSE(same_weights(weights[0], weights[2]));
}

TEST(TrainingCallbacks, ModelCheckpointSaveBestOnlySavesOnImprovement) {
  testing::TempDir dir;
  Sequential model = tiny_model();
  std::ostringstream out;
  const std::string pattern = (dir / "best-{epoch}").string();
  ModelCheckpoint checkpoint(pattern, {.verbose = 1, .save_best_only = true});
  drive(checkpoint, model, "val_loss", {0.5, 0.6, 0.4, 0.45}, &out);
  EXPECT_TRUE(std::filesystem::exists(dir / "best-1"));
  EXPECT_FALSE(std::filesystem::exists(dir / "best-2"));
  EXPECT_TRUE(std::filesystem::exists(dir / "best-3"));
  EXPECT_FALSE(std::filesystem::exists(dir / "best-4"));
  EXPECT_EQ(checkpoint.best(), 0.4);
  const std::string d = dir.path().string();
  EXPECT_EQ(out.str(), "Epoch 1: val_loss improved from inf to 0.50000, saving model to " + d +
                           "/best-1\n"
                           "Epoch 1: finished saving model to " +
                           d +
                           "/best-1\n"
                           "Epoch 2: val_loss did not improve from 0.50000\n"
                           "Epoch 3: val_loss improved from 0.50000 to 0.40000, saving model to " +
                           d +
                           "/best-3\n"
                           "Epoch 3: finished saving model to " +
                           d +
                           "/best-3\n"
                           "Epoch 4: val_loss did not improve from 0.40000\n");
  // initial_value_threshold is the value to beat; accuracy is maximized.
  ModelCheckpoint threshold(
      (dir / "acc-{epoch}").string(),
      {.monitor = "val_accuracy", .save_best_only = true, .initial_value_threshold = 0.7});
  drive(threshold, model, "val_accuracy", {0.6, 0.75, 0.72, 0.8});
  EXPECT_FALSE(std::filesystem::exists(dir / "acc-1"));
  EXPECT_TRUE(std::filesystem::exists(dir / "acc-2"));
  EXPECT_FALSE(std::filesystem::exists(dir / "acc-3"));
  EXPECT_TRUE(std::filesystem::exists(dir / "acc-4"));
  // Without save_best_only, every epoch, with the message Keras prints.
  std::ostringstream every_out;
  ModelCheckpoint every((dir / "every").string(), {.verbose = 1});
  drive(every, model, "val_loss", {0.5, 0.6}, &every_out);
  EXPECT_EQ(every_out.str(), "Epoch 1: saving model to " + d +
                                 "/every\nEpoch 1: finished saving model to " + d +
                                 "/every\nEpoch 2: saving model to " + d +
                                 "/every\nEpoch 2: finished saving model to " + d + "/every\n");
}

TEST(TrainingCallbacks, ModelCheckpointSavesWeightsEveryNBatches) {
  testing::TempDir dir;
  Sequential model = tiny_model();
  // 5 batches an epoch, a save every 3 batches counted across epochs: after epoch 1's batch 3,
  // epoch 2's batch 1 and epoch 2's batch 4 (1-based, as in the names).
  ModelCheckpoint checkpoint((dir / "w-e{epoch}-b{batch}.safetensors").string(),
                             {.save_weights_only = true, .save_freq = 3});
  std::map<std::string, std::vector<Tensor>> weights;
  int epoch_now = 0;
  LambdaCallback record({.on_epoch_begin = [&](int e, const Logs&) { epoch_now = e; },
                         .on_train_batch_end =
                             [&](int64_t b, const Logs&) {
                               weights["w-e" + std::to_string(epoch_now + 1) + "-b" +
                                       std::to_string(b + 1) + ".safetensors"] =
                                   model.get_weights();
                             }});
  model.fit(random_x(40, 1), labels(40),
            {.epochs = 2, .batch_size = 8, .verbose = 0, .callbacks = {&checkpoint, &record}});
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
    files.push_back(entry.path().filename());
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files, (std::vector<std::string>{"w-e1-b3.safetensors", "w-e2-b1.safetensors",
                                             "w-e2-b4.safetensors"}));
  for (const auto& name : files) {
    Model other = clone_model(model);
    other.load_weights(dir / name);
    EXPECT_TRUE(same_weights(other.get_weights(), weights[name])) << name;
  }
  // The file is a plain safetensors file of the model's named weights.
  auto tensors = io::read_safetensors(dir / files[0]);
  EXPECT_EQ(tensors.size(), 2u);
  EXPECT_TRUE(tensors.count(model.layers()[0]->name() + "/kernel")) << tensors.begin()->first;
}

// ---------------------------------------------------------------------------------------------
// ReduceLROnPlateau

// The optimizer's rate (0.01 at the start) after each epoch whose val_loss is values[epoch].
std::vector<double> rates_after_each_epoch(ReduceLROnPlateau& reduce, Model& model,
                                           const std::vector<double>& values,
                                           std::ostream* out = nullptr) {
  std::ostringstream sink;
  reduce.set_model(&model);
  reduce.set_params({.out = out ? out : &sink});
  model.optimizer()->set_learning_rate(0.01);
  reduce.on_train_begin({});
  std::vector<double> rates;
  for (size_t e = 0; e < values.size(); ++e) {
    Logs logs;
    logs.set("val_loss", values[e]);
    reduce.on_epoch_end(static_cast<int>(e), logs);
    rates.push_back(model.optimizer()->learning_rate());
  }
  return rates;
}

TEST(TrainingCallbacks, ReduceLROnPlateauReducesAfterPatienceWithCooldownAndFloor) {
  Sequential model = tiny_model();
  const std::vector<double> flat(10, 1.0);
  {
    ReduceLROnPlateau reduce({.factor = 0.5, .patience = 2, .min_lr = 0.002});
    EXPECT_EQ(rates_after_each_epoch(reduce, model, flat),
              (std::vector<double>{0.01, 0.01, 0.005, 0.005, 0.0025, 0.0025, 0.002, 0.002, 0.002,
                                   0.002}));
  }
  {
    // Two epochs of cooldown after each reduction before the wait counts again.
    ReduceLROnPlateau reduce({.factor = 0.5, .patience = 2, .cooldown = 2});
    EXPECT_EQ(rates_after_each_epoch(reduce, model, flat),
              (std::vector<double>{0.01, 0.01, 0.005, 0.005, 0.005, 0.0025, 0.0025, 0.0025, 0.00125,
                                   0.00125}));
  }
  {
    // An improvement restarts the wait; one within min_delta (1e-4) does not count.
    ReduceLROnPlateau reduce({.factor = 0.5, .patience = 2});
    EXPECT_EQ(rates_after_each_epoch(reduce, model, {1.0, 1.0, 0.5, 0.49995, 0.5}),
              (std::vector<double>{0.01, 0.01, 0.01, 0.01, 0.005}));
  }
  std::ostringstream out;
  ReduceLROnPlateau verbose({.patience = 1, .verbose = 1});
  EXPECT_EQ(rates_after_each_epoch(verbose, model, {1.0, 1.0, 1.0}, &out),
            (std::vector<double>{0.01, 0.001, 0.0001}));
  EXPECT_EQ(out.str(),
            "Epoch 2: ReduceLROnPlateau reducing learning rate to 0.001.\n"
            "Epoch 3: ReduceLROnPlateau reducing learning rate to 0.0001.\n");
  try {
    ReduceLROnPlateau({.factor = 1.0});
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("does not support a factor >= 1.0. Received factor=1.0"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(ReduceLROnPlateau({.factor = 0.0}), ValueError);
  EXPECT_THROW(ReduceLROnPlateau({.mode = "up"}), ValueError);
}

TEST(TrainingCallbacks, ReduceLROnPlateauReducesTheRateThroughFit) {
  Sequential model = tiny_model();
  ReduceLROnPlateau reduce({.monitor = "loss", .factor = 0.5, .patience = 1, .min_delta = 100});
  std::vector<double> seen;
  LambdaCallback record({.on_epoch_begin = [&](int, const Logs&) {
    seen.push_back(model.optimizer()->learning_rate());
  }});
  model.fit(random_x(40, 1), labels(40),
            {.epochs = 4, .batch_size = 8, .verbose = 0, .callbacks = {&record, &reduce}});
  EXPECT_EQ(seen, (std::vector<double>{0.01, 0.01, 0.005, 0.0025}));
  EXPECT_EQ(model.optimizer()->learning_rate(), 0.00125);
}

// ---------------------------------------------------------------------------------------------
// LearningRateScheduler

TEST(TrainingCallbacks, LearningRateSchedulerSetsTheRateTheOptimizerUses) {
  Sequential model = tiny_model();
  std::vector<std::pair<int, double>> calls;
  LearningRateScheduler halve([&](int epoch, double lr) {
    calls.emplace_back(epoch, lr);
    return lr / 2;
  });
  std::vector<double> in_batches;
  LambdaCallback record({.on_train_batch_begin = [&](int64_t b, const Logs&) {
    if (b == 0) in_batches.push_back(model.optimizer()->learning_rate());
  }});
  model.fit(random_x(40, 1), labels(40),
            {.epochs = 3, .batch_size = 8, .verbose = 0, .callbacks = {&halve, &record}});
  EXPECT_EQ(calls, (std::vector<std::pair<int, double>>{{0, 0.01}, {1, 0.005}, {2, 0.0025}}));
  EXPECT_EQ(in_batches, (std::vector<double>{0.005, 0.0025, 0.00125}));

  // Training with the scheduled rate is training with that rate.
  Sequential scheduled = tiny_model("sgd", 5),
             fixed = tiny_model(optimizers::SGD({.learning_rate = 0.05}), 5);
  ASSERT_TRUE(same_weights(scheduled.get_weights(), fixed.get_weights()));
  std::ostringstream out;
  LearningRateScheduler constant([](int, double) { return 0.05; }, 1);
  scheduled.fit(random_x(40, 2), labels(40),
                {.epochs = 2,
                 .batch_size = 8,
                 .verbose = 0,
                 .seed = 3,
                 .callbacks = {&constant},
                 .out = &out});
  fixed.fit(random_x(40, 2), labels(40), {.epochs = 2, .batch_size = 8, .verbose = 0, .seed = 3});
  EXPECT_TRUE(same_weights(scheduled.get_weights(), fixed.get_weights()));
  EXPECT_EQ(out.str(),
            "Epoch 1: LearningRateScheduler setting learning rate to 0.05.\n"
            "Epoch 2: LearningRateScheduler setting learning rate to 0.05.\n");
  LearningRateScheduler negative([](int, double) { return -1.0; });
  EXPECT_THROW(scheduled.fit(random_x(8, 2), labels(8), {.verbose = 0, .callbacks = {&negative}}),
               ValueError);
}

// ---------------------------------------------------------------------------------------------
// TerminateOnNaN, and stop_training inside an epoch

TEST(TrainingCallbacks, TerminateOnNaNStopsWithinTheEpoch) {
  Tensor x = random_x(40, 1);
  for (int64_t i = 16 * 6; i < 24 * 6; ++i) x.data()[i] = NAN;  // batch 2 (unshuffled) is NaN
  Sequential model = tiny_model();
  int batches = 0, epoch_ends = 0;
  LambdaCallback count({.on_epoch_end = [&](int, const Logs&) { ++epoch_ends; },
                        .on_train_batch_end = [&](int64_t, const Logs&) { ++batches; }});
  TerminateOnNaN terminate;
  std::ostringstream out;
  History h = model.fit(x, labels(40),
                        {.epochs = 3,
                         .batch_size = 8,
                         .validation_data = ValidationData(random_x(8, 2), labels(8)),
                         .shuffle = false,
                         .verbose = 0,
                         .callbacks = {&terminate, &count},
                         .out = &out});
  EXPECT_EQ(batches, 3) << "batches 0, 1 and the NaN batch 2 of 5";
  EXPECT_EQ(epoch_ends, 1);
  EXPECT_EQ(h.epoch, (std::vector<int>{0}));
  EXPECT_TRUE(std::isnan(h.history["loss"][0]));
  EXPECT_EQ(h.history.count("val_loss"), 1u)
      << "as Keras, validation still runs for the stopped epoch";
  EXPECT_EQ(out.str(), "Batch 2: Invalid loss, terminating training\n");

  Sequential again = tiny_model();
  TerminateOnNaN raise(true);
  try {
    again.fit(
        x, labels(40),
        {.epochs = 3, .batch_size = 8, .shuffle = false, .verbose = 0, .callbacks = {&raise}});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "NaN or Inf loss encountered at batch 2. Loss value: nan. Terminating training "
              "immediately.");
  }
}

TEST(TrainingCallbacks, TerminateOnNaNStopsADivergingFit) {
  // A rate of 1e30 sends the weights, then the logits, past float range within the first epoch.
  Sequential model = tiny_model(optimizers::SGD({.learning_rate = 1e30}));
  Tensor x = random_x(64, 1);
  for (float& v : x.values()) v *= 1e6f;
  int batches = 0;
  LambdaCallback count({.on_train_batch_end = [&](int64_t, const Logs&) { ++batches; }});
  TerminateOnNaN terminate;
  std::ostringstream out;
  History h = model.fit(
      x, labels(64),
      {.epochs = 5, .batch_size = 4, .verbose = 0, .callbacks = {&terminate, &count}, .out = &out});
  EXPECT_EQ(h.epoch.size(), 1u);
  EXPECT_LT(batches, 16) << "stopped inside the first epoch";
  EXPECT_FALSE(std::isfinite(h.history["loss"][0]));
  EXPECT_NE(out.str().find(": Invalid loss, terminating training"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// LambdaCallback

TEST(TrainingCallbacks, LambdaCallbackCallsItsFunctions) {
  Sequential model = tiny_model();
  std::string events;
  auto log = [&](const std::string& e) { events += (events.empty() ? "" : ",") + e; };
  LambdaCallback all({
      .on_epoch_begin = [&](int e, const Logs&) { log("epoch_begin " + std::to_string(e)); },
      .on_epoch_end =
          [&](int e, const Logs& logs) {
            log("epoch_end " + std::to_string(e) + (logs.contains("loss") ? " loss" : ""));
          },
      .on_train_begin = [&](const Logs&) { log("train_begin"); },
      .on_train_end = [&](const Logs&) { log("train_end"); },
      .on_train_batch_begin = [&](int64_t b,
                                  const Logs&) { log("batch_begin " + std::to_string(b)); },
      .on_train_batch_end = [&](int64_t b, const Logs&) { log("batch_end " + std::to_string(b)); },
  });
  LambdaCallback none({});
  LambdaCallback only_end({.on_train_end = [&](const Logs&) { log("only_end"); }});
  model.fit(random_x(16, 1), labels(16),
            {.epochs = 2, .batch_size = 8, .verbose = 0, .callbacks = {&all, &none, &only_end}});
  EXPECT_EQ(events,
            "train_begin,epoch_begin 0,batch_begin 0,batch_end 0,batch_begin 1,batch_end "
            "1,epoch_end 0 loss,"
            "epoch_begin 1,batch_begin 0,batch_end 0,batch_begin 1,batch_end 1,epoch_end 1 "
            "loss,train_end,only_end");
}

TEST(TrainingCallbacks, StopTrainingInABatchHookEndsTheEpochThere) {
  Sequential model = tiny_model();
  int batches = 0;
  LambdaCallback stop({.on_train_batch_end = [&](int64_t b, const Logs&) {
    ++batches;
    if (b == 1) model.stop_training = true;
  }});
  History h = model.fit(
      random_x(40, 1), labels(40),
      {.epochs = 3, .batch_size = 8, .validation_split = 0.2, .verbose = 0, .callbacks = {&stop}});
  EXPECT_EQ(batches, 2);
  EXPECT_EQ(h.epoch, (std::vector<int>{0}));
  EXPECT_EQ(h.history.count("val_loss"), 1u);
}

// ---------------------------------------------------------------------------------------------
// CSVLogger's append

TEST(CSVLogger, AppendAddsRowsWithoutASecondHeader) {
  testing::TempDir dir;
  const std::string path = (dir / "log.csv").string();
  Logs logs;
  logs.set("loss", 0.5);
  logs.set("accuracy", 0.75);
  auto run = [&](CSVLogger& csv, int epochs) {
    csv.on_train_begin({});
    for (int e = 0; e < epochs; ++e) csv.on_epoch_end(e, logs);
    csv.on_train_end({});
  };
  CSVLogger first(path);
  run(first, 2);
  CSVLogger appended(path, ',', true);
  run(appended, 1);
  EXPECT_EQ(io::read_file(path), "epoch,accuracy,loss\n0,0.75,0.5\n1,0.75,0.5\n0,0.75,0.5\n");
  run(appended, 1);  // the same logger again: still no header
  EXPECT_EQ(io::read_file(path),
            "epoch,accuracy,loss\n0,0.75,0.5\n1,0.75,0.5\n0,0.75,0.5\n0,0.75,0.5\n");
  CSVLogger fresh(path);  // append = false starts over
  run(fresh, 1);
  EXPECT_EQ(io::read_file(path), "epoch,accuracy,loss\n0,0.75,0.5\n");
  // A missing or empty file gets its header.
  CSVLogger to_new((dir / "new.csv").string(), ';', true);
  run(to_new, 1);
  EXPECT_EQ(io::read_file(dir / "new.csv"), "epoch;accuracy;loss\n0;0.75;0.5\n");
  testing::write_bytes(dir / "empty.csv", "");
  CSVLogger to_empty((dir / "empty.csv").string(), ',', true);
  run(to_empty, 1);
  EXPECT_EQ(io::read_file(dir / "empty.csv"), "epoch,accuracy,loss\n0,0.75,0.5\n");
}

TEST(CSVLogger, AppendsAcrossFits) {
  testing::TempDir dir;
  Sequential model = tiny_model();
  CSVLogger csv((dir / "h.csv").string(), ',', true);
  model.fit(random_x(16, 1), labels(16),
            {.epochs = 2, .batch_size = 8, .verbose = 0, .callbacks = {&csv}});
  model.fit(random_x(16, 1), labels(16),
            {.epochs = 1, .batch_size = 8, .verbose = 0, .callbacks = {&csv}});
  History h = read_history_csv(dir / "h.csv");
  EXPECT_EQ(h.epoch, (std::vector<int>{0, 1, 0}));
  EXPECT_EQ(h.history["loss"].size(), 3u);
}

TEST(CSVLogger, NumbersAreWrittenAsPythonsRepr) {
  const std::vector<std::pair<double, std::string>> cases = {
      {0.0001, "0.0001"},
      {1e-5, "1e-05"},
      {100.0, "100.0"},
      {1e15, "1000000000000000.0"},
      {1e16, "1e+16"},
      {0.51234, "0.51234"},
      {-2.5, "-2.5"},
      {123.45, "123.45"},
      {NAN, "nan"},
      {-INFINITY, "-inf"},
      {0.0, "0.0"},
      {0.8593999743461609, "0.8593999743461609"},
      {1234567.0, "1234567.0"},
      {1.5e-300, "1.5e-300"},
  };
  for (const auto& [v, expected] : cases) EXPECT_EQ(format_number(v), expected) << expected;
}

}  // namespace
}  // namespace kiln
