// The Communicator over MPI (library kiln::mpi, built where CMake finds MPI): the processes that
// mpirun (or srun) started, one per rank, on one machine or many.
//
//   mpirun -np 4 --hostfile hosts ./train        // each process runs the same program:
//   fit.distribute = kiln::distribute::mpi_strategy();
//   model.fit(x, y, fit);                        // data-parallel; rank 0 prints and writes
#pragma once

#include <memory>

#include "kiln/distribute.hpp"

namespace kiln::distribute {

struct MpiOptions {
  // How long a collective may wait for the other processes before it throws
  // CommunicationError: a process that died or stalled stops the others within this bound. It
  // must exceed the longest stretch of work one process does between two collectives (a
  // training step, an epoch's validation share, loading data before the first step).
  double timeout_seconds = 300;
};

// MPI_COMM_WORLD. MPI is initialized on the first call unless the program has done it (and then
// finalized when the program exits); later calls return the same communicator.
std::shared_ptr<Communicator> mpi_world(MpiOptions options = {});
// The strategy over mpi_world(): the one line a program changes to train data-parallel.
std::shared_ptr<MultiWorkerMirroredStrategy> mpi_strategy(StrategyOptions options = {}, MpiOptions mpi = {});
// Ends every process of the run (MPI_Abort) with `code`: what a program does after an error on one
// process, so that the others do not wait for it.
[[noreturn]] void mpi_abort(int code);

}  // namespace kiln::distribute
