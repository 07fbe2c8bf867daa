// The library's worker threads: one persistent pool shared by every kernel.
#pragma once

namespace kiln {

// Number of threads kernels may use (the calling thread counts as one). Defaults to the number of
// hardware threads; set_num_threads(n) with n >= 1 changes it, and must not be called while
// another thread is running kiln (the pool is replaced). Other calls may come from several
// threads at once, each with its own model: while one uses the workers, the others compute on
// their own thread. One model must not be used from two threads at once (it owns its buffers).
int num_threads();
void set_num_threads(int n);

}  // namespace kiln
