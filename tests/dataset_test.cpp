// data::Dataset: the order of samples and batches, map, cache (memory and file), prefetch on
// threads, errors, and fit / evaluate / predict over a pipeline against the same over arrays.
#include <atomic>
#include <cstring>
#include <fstream>
#include <kiln/data/dataset.hpp>
#include <set>
#include <sstream>

#include "helpers.hpp"

namespace kiln {
namespace {

using data::Batch;
using data::Dataset;
using data::Example;

// n samples of 2x3 bytes, sample i holding i in every byte, label i % 5.
Dataset numbered(int64_t n) {
  ByteTensor x({n, 2, 3});
  std::vector<int32_t> y;
  for (int64_t i = 0; i < n; ++i) {
    std::fill_n(x.data() + i * 6, 6, static_cast<uint8_t>(i));
    y.push_back(static_cast<int32_t>(i % 5));
  }
  return Dataset::from_tensor_slices(Inputs(x), Labels(std::move(y)));
}

// Every sample's first byte, batch after batch, for one pass.
std::vector<int> firsts(const Dataset& ds, int epoch = 0, uint64_t seed = 7, std::vector<int64_t>* sizes = nullptr) {
  std::vector<int> out;
  data::Iterator it = ds.iterate(epoch, seed);
  Batch b;
  while (it.next(b)) {
    if (sizes) sizes->push_back(b.size());
    for (int64_t i = 0; i < b.size(); ++i) out.push_back(b.x[0].bytes().data()[i * 6]);
  }
  return out;
}

std::vector<int> range(int n) {
  std::vector<int> v(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<size_t>(i)] = i;
  return v;
}

TEST(Dataset, BatchesInOrderWithTheirLabels) {
  Dataset ds = numbered(10).batch(4);
  EXPECT_EQ(ds.cardinality(), 3);
  EXPECT_EQ(ds.batch_size(), 4);
  data::Iterator it = ds.iterate();
  Batch b;
  ASSERT_TRUE(it.next(b));
  EXPECT_EQ(b.x[0].shape(), (Shape{4, 2, 3}));
  EXPECT_FALSE(b.x[0].is_float());
  EXPECT_EQ(b.y[3], 3);
  ASSERT_TRUE(it.next(b));
  EXPECT_EQ(b.y[0], 4);  // sample 4, label 4 % 5
  ASSERT_TRUE(it.next(b));
  EXPECT_EQ(b.size(), 2);
  EXPECT_EQ(b.y[1], 4);  // sample 9
  EXPECT_FALSE(it.next(b));
  EXPECT_EQ(numbered(10).batch(4, true).cardinality(), 2);
  std::vector<int64_t> sizes;
  EXPECT_EQ(firsts(numbered(10).batch(4, true), 0, 7, &sizes), range(8));
  EXPECT_EQ(sizes, (std::vector<int64_t>{4, 4}));
}

TEST(Dataset, FullShuffleIsAPermutationReproducibleBySeedAndNewEachEpoch) {
  Dataset ds = numbered(50).shuffle(50, 3).batch(8);
  std::vector<int> a = firsts(ds, 0), again = firsts(ds, 0), next = firsts(ds, 1);
  EXPECT_EQ(a, again);
  EXPECT_NE(a, next);
  EXPECT_NE(a, range(50));
  std::vector<int> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, range(50));
  // Without reshuffling, every epoch has the first one's order; unseeded, the run's seed rules.
  Dataset fixed = numbered(50).shuffle(50, 3, false);
  EXPECT_EQ(firsts(fixed, 0), firsts(fixed, 4));
  Dataset unseeded = numbered(50).shuffle(50);
  EXPECT_EQ(firsts(unseeded, 0, 11), firsts(unseeded, 0, 11));
  EXPECT_NE(firsts(unseeded, 0, 11), firsts(unseeded, 0, 12));
}

// A buffer of k lets sample j out no earlier than place j - k + 1 and holds every sample.
TEST(Dataset, BufferedShuffleDrawsFromTheBufferOnly) {
  const int k = 4;
  std::vector<int> order = firsts(numbered(200).shuffle(k, 9));
  ASSERT_EQ(order.size(), 200u);
  EXPECT_NE(order, range(200));
  for (size_t place = 0; place < order.size(); ++place) EXPECT_LE(order[place], static_cast<int>(place) + k - 1);
  std::set<int> seen(order.begin(), order.end());
  EXPECT_EQ(seen.size(), 200u);
}

TEST(Dataset, TakeAndSkipCountSamplesBeforeBatchAndBatchesAfter) {
  EXPECT_EQ(firsts(numbered(10).skip(3).take(4)), (std::vector<int>{3, 4, 5, 6}));
  EXPECT_EQ(numbered(10).skip(3).take(4).cardinality(), 4);
  Dataset batches = numbered(10).batch(3).skip(1).take(2);
  EXPECT_EQ(batches.cardinality(), 2);
  EXPECT_EQ(firsts(batches), (std::vector<int>{3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(numbered(10).take(50).cardinality(), 10);
  EXPECT_EQ(numbered(10).skip(50).cardinality(), 0);
}

TEST(Dataset, MapChangesEachSampleAndDrawsByRunEpochAndSample) {
  Dataset ds = numbered(6).map([](Example& e, const RandomStream&) {
    Tensor f = e.floats(0, 0.5);
    e.x[0] = f;
    e.label = 4 - e.label;
  });
  data::Iterator it = ds.batch(6).iterate();
  Batch b;
  ASSERT_TRUE(it.next(b));
  ASSERT_TRUE(b.x[0].is_float());
  EXPECT_FLOAT_EQ(b.x[0].floats().data()[5 * 6], 2.5f);
  EXPECT_EQ(b.y[0], 4);

  auto noisy = numbered(40).map([](Example& e, const RandomStream& r) { e.label = static_cast<int32_t>(r.bits(0) % 1000); });
  auto labels = [](const Dataset& d, int epoch, uint64_t seed) {
    std::vector<int> out;
    data::Iterator it = d.iterate(epoch, seed);
    Batch b;
    while (it.next(b))
      for (int64_t i = 0; i < b.size(); ++i) out.push_back(b.y[i]);
    return out;
  };
  const Dataset serial = noisy.batch(8), threaded = noisy.batch(8).prefetch(3, 2);
  EXPECT_EQ(labels(serial, 0, 1), labels(threaded, 0, 1));
  EXPECT_NE(labels(serial, 0, 1), labels(serial, 1, 1));
  EXPECT_NE(labels(serial, 0, 1), labels(serial, 0, 2));
}

TEST(Dataset, PrefetchOnThreadsGivesTheSameBatchesInTheSameOrder) {
  Dataset ds = numbered(300).shuffle(64, 5).batch(7);
  for (int threads : {1, 2, 4})
    EXPECT_EQ(firsts(ds.prefetch(2, threads)), firsts(ds)) << threads << " threads";
  EXPECT_EQ(firsts(ds.prefetch()), firsts(ds));
  // An iterator dropped halfway stops its threads.
  data::Iterator it = ds.prefetch(4, 3).iterate(0, 1);
  Batch b;
  EXPECT_TRUE(it.next(b));
}

TEST(Dataset, MemoryCacheMakesEachSampleOnce) {
  auto calls = std::make_shared<std::atomic<int>>(0);
  Dataset cached = numbered(20)
                       .map([calls](Example& e, const RandomStream& r) {
                         ++*calls;
                         e.label = static_cast<int32_t>(r.bits(0) % 100);
                       })
                       .cache();
  Dataset ds = cached.shuffle(20).batch(6).prefetch(2, 2);
  auto labels_by_sample = [&](int epoch) {
    std::map<int, int> out;
    data::Iterator it = ds.iterate(epoch, 3);
    Batch b;
    while (it.next(b))
      for (int64_t i = 0; i < b.size(); ++i) out[b.x[0].bytes().data()[i * 6]] = b.y[i];
    return out;
  };
  auto first = labels_by_sample(0), second = labels_by_sample(1);
  EXPECT_EQ(calls->load(), 20);
  EXPECT_EQ(first, second);  // the random map's draws were cached
  EXPECT_EQ(first.size(), 20u);
  EXPECT_NE(firsts(ds, 0, 3), firsts(ds, 1, 3));  // still shuffled anew
  // A map after the cache that edits its sample in place edits its own copy.
  Dataset editing = cached.map([](Example& e, const RandomStream&) { std::get<ByteTensor>(e.x[0]).data()[1] = 99; });
  std::vector<int64_t> sizes;
  firsts(editing.batch(20), 0, 3, &sizes);
  Batch b;
  ASSERT_TRUE(cached.batch(20).iterate(0, 3).next(b));
  EXPECT_EQ(b.x[0].bytes().data()[7 * 6 + 1], 7);
}

TEST(Dataset, FileCacheIsReadByALaterPipelineInsteadOfMakingTheSamples) {
  testing::TempDir dir;
  const auto file = dir / "samples.cache";
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto pipeline = [&](const std::string& name) {
    return Dataset::from_function(
               30,
               [calls](int64_t i, Example& e) {
                 ++*calls;
                 if (i == 13) return false;  // left out, and remembered as such
                 Tensor t({2});
                 t[0] = static_cast<float>(i);
                 t[1] = 0.5f;
                 e.x = {t};
                 e.label = static_cast<int32_t>(i % 3);
                 return true;
               },
               name)
        .cache(file)
        .batch(8);
  };
  auto values = [](const Dataset& ds) {
    std::vector<float> out;
    data::Iterator it = ds.iterate();
    Batch b;
    while (it.next(b))
      for (int64_t i = 0; i < b.size(); ++i) out.push_back(b.x[0].floats().data()[i * 2] + 100.0f * b.y[i]);
    return out;
  };
  std::vector<float> made = values(pipeline("ramp"));
  EXPECT_EQ(made.size(), 29u);
  EXPECT_EQ(calls->load(), 30);
  EXPECT_TRUE(std::filesystem::exists(file));
  EXPECT_FALSE(std::filesystem::exists(file.string() + ".partial"));
  EXPECT_EQ(values(pipeline("ramp")), made);
  EXPECT_EQ(calls->load(), 30);  // read from the file
  values(pipeline("another ramp"));  // other data: made again
  EXPECT_EQ(calls->load(), 60);

  // A file that is not a cache is never overwritten; a truncated cache is an error naming it.
  testing::write_bytes(dir / "notes.txt", "my notes");
  try {
    numbered(4).cache(dir / "notes.txt");
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("is not a kiln cache file"), std::string::npos) << e.what();
  }
  std::filesystem::resize_file(file, std::filesystem::file_size(file) - 40);
  try {
    values(pipeline("another ramp"));
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("samples.cache' is damaged (holds"), std::string::npos) << e.what();
  }
  // A header that is not JSON, or claims samples of an absurd size, is refused before any
  // allocation.
  const std::string magic("KILNCCH1", 8);
  auto header = [&](const std::string& json) {
    std::string len(8, '\0');
    const uint64_t n = json.size();
    std::memcpy(len.data(), &n, 8);
    return magic + len + json;
  };
  for (const std::string& bad :
       {header("{not json"), header(R"({"name": "ramp", "size": 30, "layout": {"features": [{"shape": [1099511627776, 1099511627776], "dtype": "uint8"}], "target": []}})"),
        header(R"({"name": "ramp", "size": 30, "layout": {"features": [{"shape": [-4], "dtype": "uint8"}], "target": []}})"),
        magic + std::string("\xff\xff\xff\xff\xff\xff\xff\x7f", 8)}) {
    testing::write_bytes(file, bad);
    EXPECT_THROW(pipeline("ramp"), IoError) << bad;
  }
}

TEST(Dataset, ErrorsReachTheCallerNamingTheSample) {
  Dataset failing = numbered(20).map([](Example& e, const RandomStream&) {
    if (e.label == 3) throw IoError("cannot read sample with label 3");
  });
  for (const Dataset& ds : {failing.batch(4), failing.batch(4).prefetch(2, 2)}) {
    data::Iterator it = ds.iterate();
    Batch b;
    EXPECT_THROW(while (it.next(b)) {}, IoError);
  }
  Dataset ragged = Dataset::from_function(4, [](int64_t i, Example& e) {
    e.x = {ByteTensor({i == 2 ? 3 : 2, 2})};
    return true;
  }, "ragged");
  try {
    Batch b;
    ragged.batch(4).iterate().next(b);
    FAIL() << "expected ShapeError";
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("sample 2 has feature 0 [3, 2] uint8"), std::string::npos) << e.what();
  }
  EXPECT_THROW(numbered(4).batch(2).map([](Example&, const RandomStream&) {}), ValueError);
  EXPECT_THROW(numbered(4).batch(2).batch(2), ValueError);
  EXPECT_THROW(numbered(4).shuffle(0), ValueError);
  EXPECT_THROW(Dataset::from_tensor_slices(Inputs(ByteTensor({4, 2})), Labels(std::vector<int32_t>{1, 2})), ShapeError);
}

// The tutorial's model on a small problem.
Sequential small_model() {
  utils::set_random_seed(5);
  Sequential model({layers::Flatten({4, 4}), layers::Dense(16, "relu"), layers::Dense(3, "softmax")});
  model.compile({.loss = "sparse_categorical_crossentropy", .optimizer = "sgd", .metrics = {"accuracy"}});
  return model;
}

struct Problem {
  ByteTensor x;
  std::vector<int32_t> y;
};

Problem problem(int64_t n) {
  Problem p{ByteTensor({n, 4, 4}), {}};
  Rng rng(2);
  for (int64_t i = 0; i < n; ++i) {
    const auto label = static_cast<int32_t>(rng.below(3));
    for (int64_t j = 0; j < 16; ++j)
      p.x.data()[i * 16 + j] = static_cast<uint8_t>((j % 3 == label ? 200 : 20) + rng.below(40));
    p.y.push_back(label);
  }
  return p;
}

// The same data, batches and order (no shuffle) give the same training, bit for bit; a
// pipeline's validation, evaluate and predict give what the arrays give.
TEST(Dataset, FitEvaluateAndPredictMatchTheArrayPath) {
  Problem train = problem(200), val = problem(50);
  Sequential a = small_model();
  a.preprocessing.rescale = 1.0 / 255;
  History ha = a.fit(Inputs(train.x), Labels(train.y),
                     {.epochs = 3, .batch_size = 16, .validation_data = ValidationData(Inputs(val.x), Labels(val.y)),
                      .shuffle = false, .verbose = 0, .seed = 1});
  Sequential b = small_model();
  b.preprocessing.rescale = 1.0 / 255;
  Dataset val_ds = Dataset::from_tensor_slices(Inputs(val.x), Labels(val.y)).batch(16);
  History hb = b.fit(Dataset::from_tensor_slices(Inputs(train.x), Labels(train.y)).batch(16).prefetch(),
                     {.epochs = 3, .validation_data = val_ds, .verbose = 0, .seed = 1});
  EXPECT_EQ(ha.history, hb.history);
  EXPECT_GT(hb.history["val_accuracy"].back(), 0.6);
  Logs ea = a.evaluate(Inputs(val.x), Labels(val.y), {.batch_size = 16, .verbose = 0});
  Logs eb = b.evaluate(val_ds, {.verbose = 0});
  EXPECT_EQ(ea.items(), eb.items());
  Tensor pa = a.predict(Inputs(val.x)), pb = b.predict(val_ds.prefetch(2, 2));
  ASSERT_EQ(pa.shape(), pb.shape());
  for (int64_t i = 0; i < pa.size(); ++i) ASSERT_EQ(pa[i], pb[i]);
}

// A full shuffle of the run's seed gives each epoch the order fit gives shuffled arrays.
TEST(Dataset, AFullyShuffledPipelineTrainsAsShuffledArrays) {
  Problem train = problem(100);
  Sequential a = small_model(), b = small_model();
  History ha = a.fit(Inputs(train.x), Labels(train.y), {.epochs = 3, .batch_size = 10, .verbose = 0, .seed = 9});
  History hb = b.fit(Dataset::from_tensor_slices(Inputs(train.x), Labels(train.y)).shuffle(100).batch(10),
                     {.epochs = 3, .verbose = 0, .seed = 9});
  EXPECT_EQ(ha.history, hb.history);
  Sequential c = small_model();
  History hc = c.fit(Inputs(train.x), Labels(train.y), {.epochs = 3, .batch_size = 10, .shuffle = false, .verbose = 0, .seed = 9});
  EXPECT_NE(ha.history, hc.history);  // the shuffle mattered
}

TEST(Dataset, FitShowsTheShareOfTimeSpentWaitingForData) {
  Problem train = problem(64);
  Sequential model = small_model();
  std::ostringstream out;
  Dataset ds = Dataset::from_tensor_slices(Inputs(train.x), Labels(train.y)).shuffle(64).batch(8).prefetch();
  struct Watch : Callback {
    double wait = -1, train = -1;
    void on_epoch_end(int, const Logs&) override {
      wait = fit_state()->data_wait_seconds;
      train = fit_state()->train_seconds;
    }
  } watch;
  model.fit(ds, {.epochs = 2, .verbose = 2, .callbacks = {&watch}, .out = &out});
  EXPECT_NE(out.str().find("% waiting for data"), std::string::npos) << out.str();
  EXPECT_GE(watch.wait, 0);
  EXPECT_GT(watch.train, 0);
  EXPECT_LE(watch.wait, watch.train);
}

TEST(Dataset, FitRefusesWhatTheDatasetDecides) {
  Problem train = problem(16);
  Sequential model = small_model();
  Dataset ds = Dataset::from_tensor_slices(Inputs(train.x), Labels(train.y));
  EXPECT_THROW(model.fit(ds, {.verbose = 0}), ValueError);  // not batched
  EXPECT_THROW(model.fit(ds.batch(4), {.batch_size = 8, .verbose = 0}), ValueError);
  EXPECT_THROW(model.fit(ds.batch(4), {.validation_split = 0.2, .verbose = 0}), ValueError);
  EXPECT_THROW(model.fit(Dataset::from_tensor_slices(Inputs(train.x)).batch(4), {.verbose = 0}), ValueError);
  // A sample the model cannot take is named as with arrays.
  Dataset wrong = Dataset::from_tensor_slices(Inputs(ByteTensor({8, 5, 5})), Labels(std::vector<int32_t>(8, 0)));
  EXPECT_THROW(model.fit(wrong.batch(4), {.verbose = 0}), ShapeError);
}

}  // namespace
}  // namespace kiln
