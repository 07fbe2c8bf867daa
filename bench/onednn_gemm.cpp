// The runner-up engine, kept as a reference: the seed step's eight products through oneDNN's
// matmul primitive (created once per shape, as a framework would cache it), timed the same way
// as bench/kernels.cpp times kiln's GEMM. Threads: OMP_NUM_THREADS (Debian's oneDNN uses OpenMP).
#include <oneapi/dnnl/dnnl.hpp>

#include "common.hpp"

namespace {

using namespace kiln;
using dnnl::memory;

// A (rows, cols) matrix stored row-major, or transposed (stored (cols, rows)).
memory::desc matrix(int64_t rows, int64_t cols, bool transposed) {
  return memory::desc({rows, cols}, memory::data_type::f32,
                      transposed ? memory::dims{1, rows} : memory::dims{cols, 1});
}

}  // namespace

int main(int argc, char** argv) {
  bench::Args args(argc, argv);
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  auto stream = std::make_shared<dnnl::stream>(engine);
  bench::report_products("onednn ", args.repeats, [&](const bench::Product& p) {
    auto a_md = matrix(p.M, p.K, p.trans_a), b_md = matrix(p.K, p.N, p.trans_b),
         c_md = matrix(p.M, p.N, false);
    auto prim = std::make_shared<dnnl::matmul>(
        dnnl::matmul::primitive_desc(dnnl::matmul::desc(a_md, b_md, c_md), engine));
    memory a(a_md, engine), b(b_md, engine), c(c_md, engine);
    std::fill_n(static_cast<float*>(a.get_data_handle()), p.M * p.K, 0.5f);
    std::fill_n(static_cast<float*>(b.get_data_handle()), p.K * p.N, 0.25f);
    return [=] {
      prim->execute(*stream, {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}});
      stream->wait();
    };
  });
}
