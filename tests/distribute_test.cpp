// Data-parallel training's in-process parts, with communicators that stand in for the other
// processes (tests/distribute/mpi_test.cpp runs the real thing under mpirun): batch shares, the
// gradient buckets, a one-process strategy that trains exactly as no strategy, and a non-chief
// process that starts from the chief's state.
#include <cstring>

#include "distribute/gradient_exchange.hpp"
#include "helpers.hpp"

namespace kiln {
namespace {

// Process `rank` of `size`, whose partners hold what it holds: a sum multiplies by `size`;
// broadcast records the chief's bytes and hands `replay` to the others.
class MirrorCommunicator : public distribute::Communicator {
 public:
  MirrorCommunicator(int rank, int size) : rank_(rank), size_(size) {}
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void start_sum(float* data, int64_t n) override { started.push_back({data, n}); }
  void progress() override {}
  void wait_all() override {
    for (auto [data, n] : started)
      for (int64_t i = 0; i < n; ++i) data[i] *= static_cast<float>(size_);
    buckets.insert(buckets.end(), started.begin(), started.end());
    started.clear();
  }
  void sum(double* data, int64_t n) override {
    for (int64_t i = 0; i < n; ++i) data[i] *= size_;
  }
  void broadcast(std::string& bytes, int root) override {
    if (rank_ == root)
      recorded = bytes;
    else
      bytes = replay;
  }
  std::vector<std::pair<float*, int64_t>> started, buckets;
  std::string recorded, replay;

 private:
  int rank_, size_;
};

Model mlp(uint64_t seed) {
  utils::set_random_seed(seed);
  Sequential model({layers::Dense({.units = 32, .activation = "relu", .input_shape = {12}}),
                    layers::Dense(16, "relu"), layers::Dense(3, "softmax")});
  model.compile({.optimizer = "adam", .metrics = {"accuracy"}});
  return model;
}

struct Data {
  Tensor x = testing::random_tensor({96, 12}, 3);
  Labels y = testing::sign_labels(x);
};

TEST(Distribute, SharesAreContiguousAndDifferByAtMostOneRow) {
  for (int64_t rows : {0, 1, 2, 5, 32, 33}) {
    for (int size : {1, 2, 3, 7}) {
      int64_t next = 0, least = rows, most = 0;
      for (int rank = 0; rank < size; ++rank) {
        const auto share = distribute::share_of(rows, rank, size);
        EXPECT_EQ(share.begin, next);
        next = share.end;
        least = std::min(least, share.rows());
        most = std::max(most, share.rows());
      }
      EXPECT_EQ(next, rows);
      EXPECT_LE(most - least, 1) << rows << " rows over " << size;
    }
  }
}

TEST(Distribute, OneProcessTrainsAsNoStrategyToTheBit) {
  const Data d;
  Model alone = mlp(1), shared = mlp(1);
  const FitOptions options{.epochs = 2, .batch_size = 10, .validation_split = 0.25, .verbose = 0, .seed = 4};
  FitOptions with = options;
  with.distribute = std::make_shared<distribute::MultiWorkerMirroredStrategy>(
      std::make_shared<MirrorCommunicator>(0, 1), distribute::StrategyOptions{.bucket_bytes = 256});
  const History a = alone.fit(d.x, d.y, options), b = shared.fit(d.x, d.y, with);
  ASSERT_EQ(alone.weights().size(), shared.weights().size());
  EXPECT_EQ(0, std::memcmp(alone.weights().data(), shared.weights().data(), alone.weights().size() * sizeof(float)));
  EXPECT_EQ(a.history, b.history);
  const Logs ea = alone.evaluate(d.x, d.y, {.verbose = 0});
  const Logs eb = shared.evaluate(d.x, d.y, {.verbose = 0, .distribute = with.distribute});
  EXPECT_EQ(ea.at("loss"), eb.at("loss"));
  EXPECT_EQ(ea.at("accuracy"), eb.at("accuracy"));
}

// Backward starts a bucket whenever enough of the arena's tail is final: together the buckets
// cover the gradient arena once, from its end; bucket 0 sums it in one piece.
TEST(Distribute, BucketsCoverTheGradientArenaOnceFromItsEnd) {
  const Data d;
  for (int64_t bucket : {int64_t{0}, int64_t{1024}}) {
    Model model = mlp(2);
    auto comm = std::make_shared<MirrorCommunicator>(0, 1);
    model.fit(d.x.slice(0, 8), d.y.slice(0, 8),
              {.batch_size = 8, .verbose = 0, .seed = 1,
               .distribute = std::make_shared<distribute::MultiWorkerMirroredStrategy>(
                   comm, distribute::StrategyOptions{.bucket_bytes = bucket})});
    ASSERT_FALSE(comm->buckets.empty());
    const float* arena = comm->buckets.back().first;  // the last bucket begins the arena
    int64_t end = model.weights().size();
    for (auto [data, n] : comm->buckets) {
      EXPECT_EQ(data - arena + n, end);
      end = data - arena;
    }
    EXPECT_EQ(end, 0);
    // 1,008 floats: the first layer's 416, the second's 528, the last's 64 (each weight padded to
    // 16 floats). With 256-float buckets, the last two layers' go together, then the first's.
    EXPECT_EQ(model.weights().size(), 1008);
    EXPECT_EQ(comm->buckets.size(), bucket == 0 ? 1u : 2u);
  }
}

// A process other than the chief starts from the chief's weights, optimizer state and seed.
TEST(Distribute, OtherProcessesStartFromTheChiefsState) {
  const Data d;
  Model chief = mlp(5), other = mlp(6);
  chief.fit(d.x, d.y, {.epochs = 1, .verbose = 0, .seed = 2});  // optimizer state to hand over
  auto chief_comm = std::make_shared<MirrorCommunicator>(0, 2), other_comm = std::make_shared<MirrorCommunicator>(1, 2);
  using distribute::MultiWorkerMirroredStrategy;
  chief.fit(d.x, d.y, {.epochs = 0, .verbose = 0, .distribute = std::make_shared<MultiWorkerMirroredStrategy>(chief_comm)});
  ASSERT_FALSE(chief_comm->recorded.empty());
  other_comm->replay = chief_comm->recorded;
  other.fit(d.x, d.y, {.epochs = 0, .verbose = 0, .distribute = std::make_shared<MultiWorkerMirroredStrategy>(other_comm)});
  EXPECT_EQ(0, std::memcmp(chief.weights().data(), other.weights().data(), chief.weights().size() * sizeof(float)));
  EXPECT_EQ(other.optimizer()->iterations(), chief.optimizer()->iterations());
  const auto a = chief.optimizer()->state(), b = other.optimizer()->state();
  for (const auto& [name, t] : a)
    EXPECT_EQ(0, std::memcmp(t.data(), b.at(name).data(), t.size() * sizeof(float))) << name;
  // Bytes that are not a training state are refused with a message, not a crash.
  other_comm->replay = "not a state";
  EXPECT_THROW(other.fit(d.x, d.y, {.epochs = 0, .verbose = 0,
                                    .distribute = std::make_shared<MultiWorkerMirroredStrategy>(other_comm)}),
               IoError);
}

}  // namespace
}  // namespace kiln
