// The library's worker threads: one persistent pool shared by every kernel.
#pragma once

namespace kiln {

// Number of threads kernels may use (the calling thread counts as one). Defaults to the number of
// hardware threads; set_num_threads(n) with n >= 1 changes it.
int num_threads();
void set_num_threads(int n);

}  // namespace kiln
