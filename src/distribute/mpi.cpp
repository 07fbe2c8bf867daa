// The Communicator over MPI: non-blocking collectives, polled until done or until the timeout.
#include <mpi.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include "kiln/distribute_mpi.hpp"

namespace kiln::distribute {

namespace {

// Counts MPI takes as int; larger arrays go in pieces of this many values.
constexpr int64_t kPiece = 1 << 30;

std::string seconds(double s) {
  char text[32];
  std::snprintf(text, sizeof text, "%g s", s);
  return text;
}

void finalize_at_exit() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

class MpiCommunicator : public Communicator {
 public:
  explicit MpiCommunicator(MpiOptions options) : options_(options) {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }

  void start_sum(float* data, int64_t n) override {
    start_pieces(data, n, "MPI_Iallreduce", [](float* piece, int count, MPI_Request* request) {
      return MPI_Iallreduce(MPI_IN_PLACE, piece, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, request);
    });
    what_ = "summing gradients (or moving statistics)";
  }

  void progress() override {
    if (requests_.empty()) return;
    int done = 0;
    check(MPI_Testall(static_cast<int>(requests_.size()), requests_.data(), &done, MPI_STATUSES_IGNORE), "MPI_Testall");
    if (done) requests_.clear();
  }

  void wait_all() override {
    if (requests_.empty()) return;
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    for (;;) {
      progress();
      if (requests_.empty()) return;
      const double waited = std::chrono::duration<double>(Clock::now() - start).count();
      if (waited > options_.timeout_seconds)
        throw CommunicationError("process " + std::to_string(rank_) + " of " + std::to_string(size_) +
                                 ": the other processes did not answer for " + seconds(options_.timeout_seconds) +
                                 " while " + what_ + "; one of them has died, stalled or stopped early (its own "
                                 "error, if any, is above)");
      // Spin for the first millisecond, which a step's sums take; then leave the core to others.
      if (waited > 1e-3) std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }

  void sum(double* data, int64_t n) override {
    start_pieces(data, n, "MPI_Iallreduce", [](double* piece, int count, MPI_Request* request) {
      return MPI_Iallreduce(MPI_IN_PLACE, piece, count, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD, request);
    });
    what_ = "summing the loss and metrics";
    wait_all();
  }

  void broadcast(std::string& bytes, int root) override {
    uint64_t size = bytes.size();
    requests_.emplace_back();
    check(MPI_Ibcast(&size, 1, MPI_UINT64_T, root, MPI_COMM_WORLD, &requests_.back()), "MPI_Ibcast");
    what_ = "receiving the chief's training state";
    wait_all();
    bytes.resize(size);
    start_pieces(bytes.data(), static_cast<int64_t>(size), "MPI_Ibcast",
                 [root](char* piece, int count, MPI_Request* request) {
                   return MPI_Ibcast(piece, count, MPI_BYTE, root, MPI_COMM_WORLD, request);
                 });
    wait_all();
  }

 private:
  // Starts call(piece, count, request) on each piece of at most kPiece values of data[0, n).
  template <typename T, typename Call>
  void start_pieces(T* data, int64_t n, const char* name, Call&& call) {
    for (int64_t at = 0; at < n; at += kPiece) {
      requests_.emplace_back();
      check(call(data + at, static_cast<int>(std::min(kPiece, n - at)), &requests_.back()), name);
    }
  }

  void check(int code, const char* call) const {
    if (code == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(code, text, &length);
    throw CommunicationError("process " + std::to_string(rank_) + ": " + call + " failed: " + std::string(text, length));
  }

  MpiOptions options_;
  int rank_ = 0, size_ = 1;
  std::vector<MPI_Request> requests_;
  const char* what_ = "";
};

}  // namespace

std::shared_ptr<Communicator> mpi_world(MpiOptions options) {
  static std::mutex mutex;
  static std::shared_ptr<Communicator> world;
  std::lock_guard lock(mutex);
  if (world) return world;
  if (!(options.timeout_seconds > 0))
    throw ValueError("mpi_world: timeout_seconds must be positive, received " + std::to_string(options.timeout_seconds));
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
      throw CommunicationError("MPI_Init_thread failed: is this program started by mpirun?");
    std::atexit(finalize_at_exit);
  }
  // Errors come back as codes, which become CommunicationError, instead of ending the process.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  world = std::make_shared<MpiCommunicator>(options);
  return world;
}

std::shared_ptr<MultiWorkerMirroredStrategy> mpi_strategy(StrategyOptions options, MpiOptions mpi) {
  return std::make_shared<MultiWorkerMirroredStrategy>(mpi_world(mpi), options);
}

void mpi_abort(int code) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) MPI_Abort(MPI_COMM_WORLD, code);
  std::exit(code);
}

}  // namespace kiln::distribute
