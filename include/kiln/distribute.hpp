// Data-parallel training across processes, in the spirit of Keras's MultiWorkerMirroredStrategy:
// every process holds the whole model and trains on its share of each global batch, and the
// gradients are summed across processes every step, so that every process keeps the same
// weights. fit and evaluate take a strategy in their options (FitOptions::distribute); the
// processes talk through a Communicator (kiln/distribute_mpi.hpp gives the one over MPI).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "kiln/error.hpp"

namespace kiln::distribute {

// The processes of one run. Every collective is called by every process, in the same order.
class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Starts summing data[0, n) elementwise across the processes, in place; the sum is complete
  // (and the same bits on every process) after wait_all(). The data must stay untouched until then.
  virtual void start_sum(float* data, int64_t n) = 0;
  // Lets started sums advance while the caller computes (between layers of backward).
  virtual void progress() = 0;
  // Completes every started sum; CommunicationError when the others do not answer in time.
  virtual void wait_all() = 0;
  // Sums data[0, n) across the processes, in place, and returns when done.
  virtual void sum(double* data, int64_t n) = 0;
  // Gives every process root's bytes (resized to fit).
  virtual void broadcast(std::string& bytes, int root) = 0;
};

struct StrategyOptions {
  // Gradients are summed in buckets of about this many bytes, each started as soon as backward
  // has produced it, so that communication overlaps the rest of backward (as PyTorch DDP does).
  // 0 sums the whole gradient arena in one operation after backward.
  int64_t bucket_bytes = 1 << 20;
};

// Synchronous data parallelism over a communicator. With it, fit:
// - starts every process from the chief's (rank 0's) weights, optimizer state and seed, after the
//   callbacks' on_train_begin (so a BackupAndRestore restored on the chief reaches everyone);
// - splits each global batch of batch_size rows into contiguous shares, one per process, and
//   scales each process's loss gradient by 1/batch_size, so that the summed gradient is the
//   single-process one up to the order of float additions;
// - averages the moving statistics (batch normalization's) before each validation;
// - logs the loss and metrics over the global batch, so that every process sees the same logs
//   and callbacks decide alike; stop_training set on any process stops them all;
// - runs the callbacks that write output (Callback::chief_only: the progress bar, CSVLogger,
//   ModelCheckpoint, BackupAndRestore, the learning curves) on the chief only.
// fit's validation and evaluate split the samples across the processes and combine their sums,
// giving the single-process results. predict runs on each process as it would alone.
class MultiWorkerMirroredStrategy {
 public:
  explicit MultiWorkerMirroredStrategy(std::shared_ptr<Communicator> communicator, StrategyOptions options = {});
  int rank() const { return comm_->rank(); }
  int num_replicas_in_sync() const { return comm_->size(); }
  bool is_chief() const { return comm_->rank() == 0; }
  Communicator& communicator() const { return *comm_; }
  const StrategyOptions& options() const { return options_; }

 private:
  std::shared_ptr<Communicator> comm_;
  StrategyOptions options_;
};

// Rows [begin, end) of a batch of `rows` that process `rank` of `size` takes: contiguous shares
// whose sizes differ by at most one.
struct Share {
  int64_t begin, end;
  int64_t rows() const { return end - begin; }
};
Share share_of(int64_t rows, int rank, int size);

// How many processes the launcher that started this one runs in all, and on this machine
// (Open MPI's mpirun: OMPI_COMM_WORLD_SIZE and OMPI_COMM_WORLD_LOCAL_SIZE; MPICH and Slurm's
// PMI_SIZE and MPI_LOCALNRANKS); 1 for a process started on its own.
int launched_processes();
int launched_local_processes();

}  // namespace kiln::distribute
