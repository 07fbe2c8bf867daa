#include "helpers.hpp"

#include <cmath>
#include <optional>
#include <fstream>
#include <random>

namespace kiln::testing {

Tensor random_tensor(const Shape& shape, uint64_t seed, float lo, float hi) {
  Tensor t(shape);
  Rng rng(seed);
  for (auto& v : t.values()) v = static_cast<float>(rng.uniform(lo, hi));
  return t;
}

TempDir::TempDir() {
  std::random_device rd;
  path_ = std::filesystem::temp_directory_path() / ("kiln-test-" + std::to_string(rd()) + std::to_string(rd()));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void materialize(Layer& layer, const Shape& input_shape, uint64_t seed) {
  layer.build_once(input_shape);
  for (auto& p : layer.params()) {
    p.value = random_tensor(p.shape, seed++, -0.5f, 0.5f);
    p.grad = Tensor(p.shape);
  }
}

double max_abs_diff(const float* a, const std::vector<double>& b, size_t n) {
  EXPECT_EQ(n, b.size());
  double worst = 0;
  for (size_t i = 0; i < std::min(n, b.size()); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  return worst;
}

namespace {

// L = sum(out * r) in double, for the layer's current weights.
double objective(Layer& layer, const Tensor& x, const Tensor& r, Tensor& out) {
  layer.forward(Context{.training = true}, x, out);
  double sum = 0;
  for (int64_t i = 0; i < out.size(); ++i) sum += static_cast<double>(out[i]) * r[i];
  return sum;
}

void check_one(const char* what, int64_t index, double analytic, double numeric, double tolerance, double& worst) {
  double err = std::abs(analytic - numeric) / std::max(1.0, std::abs(numeric));
  worst = std::max(worst, err);
  EXPECT_LT(err, tolerance) << what << "[" << index << "]: backward " << analytic << ", central difference " << numeric;
}

}  // namespace

void check_gradients(Layer& layer, const Shape& input_shape, double tolerance) {
  const int64_t B = 3;
  Shape batch = input_shape;
  batch.insert(batch.begin(), B);
  materialize(layer, input_shape, 7);
  Tensor x = random_tensor(batch, 11);
  Shape out_shape = layer.output_shape();
  out_shape.insert(out_shape.begin(), B);
  Tensor out(out_shape), r = random_tensor(out_shape, 13);

  // Analytic gradients.
  objective(layer, x, r, out);
  Tensor grad_out = r.clone(), grad_in(batch);
  for (auto& p : layer.params()) std::fill_n(p.grad.data(), p.grad.size(), 0.0f);
  layer.backward(Context{.training = true}, x, out, grad_out, &grad_in);

  const double eps = 1e-2;
  double worst = 0;
  int64_t skipped = 0;
  const bool relu = layer.output_activation() == "relu";
  std::vector<bool> mask(static_cast<size_t>(out.size()));
  objective(layer, x, r, out);
  for (int64_t i = 0; i < out.size(); ++i) mask[i] = out[i] > 0;
  auto same_mask = [&] {
    for (int64_t i = 0; i < out.size(); ++i)
      if ((out[i] > 0) != mask[i]) return false;
    return true;
  };
  // Central difference for one element, or nothing where the step crosses a ReLU kink (the two
  // sides of a kink disagree, so the difference means nothing there).
  auto numeric = [&](float& v) -> std::optional<double> {
    float saved = v;
    v = static_cast<float>(saved + eps);
    double up = objective(layer, x, r, out);
    bool ok = !relu || same_mask();
    v = static_cast<float>(saved - eps);
    double down = objective(layer, x, r, out);
    ok = ok && (!relu || same_mask());
    v = saved;
    if (!ok) return std::nullopt;
    return (up - down) / (2 * eps);
  };
  auto check = [&](const char* what, int64_t i, float analytic, float& v) {
    if (auto n = numeric(v)) check_one(what, i, analytic, *n, tolerance, worst);
    else ++skipped;
  };
  for (int64_t i = 0; i < x.size(); ++i) check("input", i, grad_in[i], x[i]);
  for (auto& p : layer.params())
    for (int64_t i = 0; i < p.value.size(); ++i) check(p.name.c_str(), i, p.grad[i], p.value[i]);
  int64_t total = x.size();
  for (auto& p : layer.params()) total += p.value.size();
  EXPECT_LT(skipped, total / 10) << "too many elements sit at a ReLU kink to check";
  std::cout << "  " << layer.class_name() << " '" << layer.output_activation() << "' max relative error " << worst << "\n";
}

}  // namespace kiln::testing
