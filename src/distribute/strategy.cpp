#include "kiln/distribute.hpp"

#include <cstdlib>
#include <initializer_list>

namespace kiln::distribute {

MultiWorkerMirroredStrategy::MultiWorkerMirroredStrategy(std::shared_ptr<Communicator> communicator,
                                                         StrategyOptions options)
    : comm_(std::move(communicator)), options_(options) {
  if (!comm_) throw ValueError("MultiWorkerMirroredStrategy needs a communicator, received none");
  if (options_.bucket_bytes < 0)
    throw ValueError("MultiWorkerMirroredStrategy: bucket_bytes must be >= 0, received " +
                     std::to_string(options_.bucket_bytes));
}

Share share_of(int64_t rows, int rank, int size) {
  return {rows * rank / size, rows * (rank + 1) / size};
}

namespace {

int from_environment(std::initializer_list<const char*> names) {
  for (const char* name : names) {
    const char* value = std::getenv(name);
    if (!value) continue;
    char* end = nullptr;
    const long n = std::strtol(value, &end, 10);
    if (end != value && *end == '\0' && n >= 1 && n <= 1 << 24) return static_cast<int>(n);
  }
  return 1;
}

}  // namespace

int launched_processes() { return from_environment({"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"}); }
int launched_local_processes() { return from_environment({"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS"}); }

}  // namespace kiln::distribute
