// Test helpers: random tensors, temporary folders, standalone layers with their own weights,
// and the numerical gradient checkers every layer and model test uses.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <kiln/kiln.hpp>
#include <string>

namespace kiln::testing {

Tensor random_tensor(const Shape& shape, uint64_t seed, float lo = -1.0f, float hi = 1.0f);
// Class labels for the rows of x (N, F): 2 where the first two features are positive, 1 where
// only the first is, else 0: a small problem a model learns in a few epochs.
Labels sign_labels(const Tensor& x);

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
// An archive of (name, bytes) members made with libarchive: "tar.gz", "tar" or "zip" (deflated).
std::string archive_bytes(const std::vector<std::pair<std::string, std::string>>& members,
                          const std::string& format);

// Builds `layer` for per-sample input shapes and gives each weight its own random storage.
void materialize(Layer& layer, const std::vector<Shape>& input_shapes, uint64_t seed);

// A single-input layer's forward and backward on plain tensors (grad_in may be null).
void call_forward(Layer& layer, const Context& ctx, const Tensor& x, Tensor& out);
void call_backward(Layer& layer, const Context& ctx, const Tensor& x, const Tensor& out, Tensor& grad_out,
                   Tensor* grad_in);

// What a gradient check found: the worst error, how many elements it checked and skipped (a
// step that crosses a kink: ReLU's, a maximum's), and the first few mismatches.
struct GradientReport {
  double worst = 0;  // max |analytic - numeric| / (atol + rtol |numeric|): above 1 fails
  int64_t checked = 0, skipped = 0;
  std::vector<std::string> mismatches;
  bool ok() const { return mismatches.empty() && skipped * 10 < checked + skipped; }
};
std::ostream& operator<<(std::ostream& out, const GradientReport& report);

// Tolerances: an element passes when |analytic - numeric| <= atol + rtol |numeric|. With the
// defaults a gradient 1% off fails (the mutation test shows it).
struct GradientTolerance {
  double rtol = 1e-3, atol = 1e-4;
};

// Central differences of L = sum(out * R) (R random, L summed in double) with two step sizes:
// the smaller gives the reference, and where the two disagree the steps cross a kink and the
// element is skipped. Checks every input and weight element of the layer against its backward
// pass, each input gradient added onto a buffer of ones (the path of a tensor read twice).
// The batch has `batch` samples. Non-trainable weights (batch normalization's moving statistics)
// get no gradient and are not checked.
GradientReport check_gradients(Layer& layer, const std::vector<Shape>& input_shapes,
                               GradientTolerance tolerance = {}, int64_t batch = 3);

// The same for a compiled model: the mean loss over x and labels against every weight's
// gradient from the model's backward pass. before_forward runs before every training forward
// pass (to reseed a model whose layers draw random numbers).
GradientReport check_model_gradients(Model& model, const std::vector<Tensor>& x, const std::vector<int32_t>& labels,
                                     GradientTolerance tolerance = {},
                                     const std::function<void()>& before_forward = [] {});

// A fixture PyTorch computed (tests/golden/NAME.json, written by make_golden.py).
nlohmann::json golden(const std::string& name);
// t's values from a JSON list of the same length (fails the test otherwise).
void fill(Tensor& t, const nlohmann::json& values);
// Fails unless max |t - expected| < tol; prints the difference.
void expect_close(const char* what, const Tensor& t, const nlohmann::json& expected, double tol);

// Max |a - b| over two equally long float arrays; fails the test if sizes differ.
double max_abs_diff(const float* a, const std::vector<double>& b, size_t n);

}  // namespace kiln::testing
