// Test helpers: random tensors, temporary folders, standalone layers with their own weights,
// and the numerical gradient checker every layer test uses.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <kiln/kiln.hpp>
#include <string>

namespace kiln::testing {

Tensor random_tensor(const Shape& shape, uint64_t seed, float lo = -1.0f, float hi = 1.0f);

// A fresh empty folder under the system temp dir, removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

void write_bytes(const std::filesystem::path& path, const std::string& bytes);

// Builds `layer` for a per-sample input shape and gives each weight its own random storage.
void materialize(Layer& layer, const Shape& input_shape, uint64_t seed);

// Compares the layer's backward pass against central differences of L = sum(out * R) for a
// random R, over every input and weight element (in double precision around float forward
// passes). Elements within `kink` of a ReLU kink are skipped. Reports the largest error.
void check_gradients(Layer& layer, const Shape& input_shape, double tolerance = 2e-2);

// Max |a - b| over two equally long float arrays; fails the test if sizes differ.
double max_abs_diff(const float* a, const std::vector<double>& b, size_t n);

}  // namespace kiln::testing
