// The pixel conversion on every instruction set the CPU supports, against ByteTensor::astype,
// to the bit; and the batch gathers built on it, whose rows are split across the thread pool.
#include "kernels/cpu/convert.hpp"

#include <cstring>

#include "helpers.hpp"
#include "kiln/trainer.hpp"

namespace kiln {
namespace {

TEST(ScaleBytes, EveryIsaMatchesAstypeBitForBit) {
  // Every byte value, at every offset of an 8-wide vector, with tails of every length.
  ByteTensor bytes({256 * 3 + 5});
  for (int64_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 7 + i / 256);
  for (double scale : {1.0 / 255.0, 1.0, -0.5, 3e-3}) {
    Tensor expected = bytes.astype<float>(scale);
    for (auto isa : cpu::supported_isas())
      for (int64_t n : {int64_t{0}, int64_t{1}, int64_t{7}, int64_t{8}, int64_t{9}, bytes.size()}) {
        std::vector<float> out(n + 1, -42.0f);
        cpu::scale_bytes_with(isa, bytes.data(), n, scale, out.data());
        EXPECT_EQ(0, std::memcmp(out.data(), expected.data(), sizeof(float) * n))
            << cpu::isa_name(isa) << " n=" << n << " scale=" << scale;
        EXPECT_EQ(out[n], -42.0f) << "wrote past the end: " << cpu::isa_name(isa) << " n=" << n;
      }
  }
}

TEST(ScaleBytes, GatherConvertsTheChosenRowsOnAnyThreadCount) {
  ByteTensor images({40, 28, 28});
  for (int64_t i = 0; i < images.size(); ++i) images[i] = static_cast<uint8_t>(i * 31 + i / 784);
  Inputs inputs(images);
  const int64_t rows[] = {39, 0,  17, 17, 5,  22, 38, 1,  2,  3,  4,  6,  7,  8,  9,  10, 11,
                          12, 13, 14, 15, 16, 18, 19, 20, 21, 23, 24, 25, 26, 27, 28, 29};
  const int64_t n = std::size(rows);
  Tensor all = images.astype<float>(1.0 / 255.0);
  const int before = num_threads();
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    std::vector<float> out(n * 784);
    inputs.gather(rows, n, out.data(), 1.0 / 255.0);
    for (int64_t i = 0; i < n; ++i)
      EXPECT_EQ(0,
                std::memcmp(out.data() + i * 784, all.data() + rows[i] * 784, sizeof(float) * 784))
          << "row " << i << " (image " << rows[i] << ") on " << threads << " threads";
    inputs.prefetch(rows, n);  // a hint only: must not fault or change anything
  }
  set_num_threads(before);
}

}  // namespace
}  // namespace kiln
