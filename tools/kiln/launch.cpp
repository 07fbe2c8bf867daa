// kiln under mpirun: the strategy a launched process trains with, its share of the cores, and
// how an error on one process ends them all.
#include <thread>

#include "common.hpp"
#ifdef KILN_HAS_MPI
#include "kiln/distribute_mpi.hpp"
#endif

namespace kiln::cli {

std::shared_ptr<distribute::MultiWorkerMirroredStrategy> launched_strategy(double timeout_seconds, int64_t bucket_bytes,
                                                                      int threads) {
  const int processes = distribute::launched_processes();
  if (threads > 0) {
    set_num_threads(threads);
  } else if (processes > 1) {
    // The processes on one machine share its cores.
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    set_num_threads(std::max(1, cores / distribute::launched_local_processes()));
  }
  if (processes == 1) return nullptr;
#ifdef KILN_HAS_MPI
  return distribute::mpi_strategy({.bucket_bytes = bucket_bytes}, {.timeout_seconds = timeout_seconds});
#else
  (void)timeout_seconds;
  (void)bucket_bytes;
  throw ValueError("this process is one of " + std::to_string(processes) +
                   " that a launcher started, but this kiln was built without MPI, so each would train alone "
                   "and write the same files; rebuild with libopenmpi-dev installed (CMake option KILN_MPI)");
#endif
}

void add_mpi_timeout_option(CLI::App* cmd, double& seconds) {
  cmd->add_option("--mpi-timeout", seconds,
                  "Under mpirun: seconds a process waits for the others before the run stops with an error (a "
                  "process died or stalled); longer than one process's longest work between two collective steps "
                  "(default 300)")
      ->check(CLI::PositiveNumber);
}

int end_after_error() {
#ifdef KILN_HAS_MPI
  if (distribute::launched_processes() > 1) distribute::mpi_abort(1);
#endif
  return 1;
}

}  // namespace kiln::cli
