#include "helpers.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <optional>
#include <random>
#include <sstream>

namespace kiln::testing {

Labels sign_labels(const Tensor& x) {
  const int64_t n = x.dim(0), f = x.row_size();
  std::vector<int32_t> labels;
  for (int64_t i = 0; i < n; ++i) labels.push_back(x[i * f] > 0 ? (x[i * f + 1] > 0 ? 2 : 1) : 0);
  return Labels(labels);
}

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

std::string archive_bytes(const std::vector<std::pair<std::string, std::string>>& members,
                          const std::string& format) {
  std::string out;
  archive* a = archive_write_new();
  if (format == "zip") {
    archive_write_set_format_zip(a);
  } else {
    archive_write_set_format_pax_restricted(a);
    if (format == "tar.gz") archive_write_add_filter_gzip(a);
  }
  archive_write_set_bytes_in_last_block(a, 1);
  EXPECT_EQ(archive_write_open(
                a, &out, nullptr,
                [](archive*, void* data, const void* buf, size_t n) -> la_ssize_t {
                  static_cast<std::string*>(data)->append(static_cast<const char*>(buf), n);
                  return static_cast<la_ssize_t>(n);
                },
                nullptr),
            ARCHIVE_OK);
  for (const auto& [name, bytes] : members) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_size(e, static_cast<la_int64_t>(bytes.size()));
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_write_header(a, e);
    archive_write_data(a, bytes.data(), bytes.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

void materialize(Layer& layer, const std::vector<Shape>& input_shapes, uint64_t seed) {
  layer.build_once(input_shapes);
  for (auto& p : layer.params()) {
    p.value = random_tensor(p.shape, seed++, -0.5f, 0.5f);
    p.grad = Tensor(p.shape);
  }
}

void call_forward(Layer& layer, const Context& ctx, const Tensor& x, Tensor& out) {
  const Tensor* in[] = {&x};
  layer.forward(ctx, in, out);
}

void call_backward(Layer& layer, const Context& ctx, const Tensor& x, const Tensor& out, Tensor& grad_out,
                   Tensor* grad_in) {
  const Tensor* in[] = {&x};
  InputGrad g[] = {{grad_in, false}};
  layer.backward(ctx, in, out, grad_out, g);
}

nlohmann::json golden(const std::string& name) {
  return nlohmann::json::parse(io::read_file(std::string(KILN_GOLDEN_DIR) + "/" + name + ".json"));
}

void fill(Tensor& t, const nlohmann::json& values) {
  auto v = values.get<std::vector<float>>();
  ASSERT_EQ(static_cast<int64_t>(v.size()), t.size());
  std::copy(v.begin(), v.end(), t.data());
}

void expect_close(const char* what, const Tensor& t, const nlohmann::json& expected, double tol) {
  double diff = max_abs_diff(t.data(), expected.get<std::vector<double>>(), static_cast<size_t>(t.size()));
  std::cout << "  " << what << ": max |kiln - torch| = " << diff << "\n";
  EXPECT_LT(diff, tol) << what;
}

double max_abs_diff(const float* a, const std::vector<double>& b, size_t n) {
  EXPECT_EQ(n, b.size());
  double worst = 0;
  for (size_t i = 0; i < std::min(n, b.size()); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  return worst;
}

std::ostream& operator<<(std::ostream& out, const GradientReport& r) {
  out << "worst error " << r.worst << " of the tolerance, " << r.checked << " elements checked, " << r.skipped
      << " skipped at kinks";
  for (const auto& m : r.mismatches) out << "\n  " << m;
  return out;
}

namespace {

// The numerical derivative of f at v (a float that f reads): the central difference with step
// 0.005 (truncation error ~4e-6 f''', float32 rounding ~1e-5); nothing when it and the step-0.01
// difference disagree, which happens where a step crosses a kink.
std::optional<double> numeric_derivative(float& v, const std::function<double()>& f, GradientTolerance tol) {
  const float saved = v;
  auto central = [&](double h) {
    v = static_cast<float>(saved + h);
    double up_step = static_cast<double>(v) - saved;
    double up = f();
    v = static_cast<float>(saved - h);
    double down_step = saved - static_cast<double>(v);
    double down = f();
    v = saved;
    return (up - down) / (up_step + down_step);
  };
  const double wide = central(1e-2), narrow = central(5e-3);
  if (std::abs(wide - narrow) > 0.5 * (tol.atol + tol.rtol * std::abs(narrow))) return std::nullopt;
  return narrow;
}

// Compares one element and records it.
void compare(GradientReport& report, GradientTolerance tol, const std::string& what, double analytic,
             std::optional<double> numeric) {
  if (!numeric) {
    ++report.skipped;
    return;
  }
  ++report.checked;
  double err = std::abs(analytic - *numeric) / (tol.atol + tol.rtol * std::abs(*numeric));
  report.worst = std::max(report.worst, err);
  if (err > 1 && report.mismatches.size() < 10) {
    std::ostringstream m;
    m << what << ": backward " << analytic << ", central difference " << *numeric;
    report.mismatches.push_back(m.str());
  } else if (err > 1) {
    report.mismatches.back() = "... and more";
  }
}

}  // namespace

GradientReport check_gradients(Layer& layer, const std::vector<Shape>& input_shapes, GradientTolerance tol,
                               int64_t B) {
  materialize(layer, input_shapes, 7);
  std::vector<Tensor> xs;
  for (size_t k = 0; k < input_shapes.size(); ++k) {
    Shape batch = input_shapes[k];
    batch.insert(batch.begin(), B);
    xs.push_back(random_tensor(batch, 11 + k));
  }
  std::vector<const Tensor*> in;
  for (const auto& x : xs) in.push_back(&x);
  Shape out_shape = layer.output_shape();
  out_shape.insert(out_shape.begin(), B);
  Tensor out(out_shape), r = random_tensor(out_shape, 13);
  const Workspace ws = layer.workspace(B, true);
  std::vector<float> scratch(ws.scratch), saved(ws.saved);
  Context ctx{.training = true, .accumulate = false, .scratch = scratch, .saved = saved};
  auto objective = [&] {
    layer.forward(ctx, in, out);
    double sum = 0;
    for (int64_t i = 0; i < out.size(); ++i) sum += static_cast<double>(out[i]) * r[i];
    return sum;
  };
  // Analytic gradients. Each input's gradient is added onto a buffer of ones, and must come out
  // as one plus the gradient (the accumulate path a tensor read by two layers takes).
  objective();
  Tensor grad_out = r.clone();
  std::vector<Tensor> grads;
  std::vector<InputGrad> targets;
  for (const auto& x : xs) {
    grads.emplace_back(x.shape());
    std::fill_n(grads.back().data(), grads.back().size(), 1.0f);
  }
  for (auto& g : grads) targets.push_back({&g, true});
  layer.backward(ctx, in, out, grad_out, targets);
  GradientReport report;
  for (size_t k = 0; k < xs.size(); ++k)
    for (int64_t i = 0; i < xs[k].size(); ++i)
      compare(report, tol, "input " + std::to_string(k) + "[" + std::to_string(i) + "]", grads[k][i] - 1.0,
              numeric_derivative(xs[k][i], objective, tol));
  for (auto& p : layer.params())
    for (int64_t i = 0; p.trainable && i < p.value.size(); ++i)
      compare(report, tol, p.name + "[" + std::to_string(i) + "]", p.grad[i],
              numeric_derivative(p.value[i], objective, tol));
  return report;
}

GradientReport check_model_gradients(Model& model, const std::vector<Tensor>& x, const std::vector<int32_t>& labels,
                                     GradientTolerance tol, const std::function<void()>& before_forward) {
  std::vector<const Tensor*> in;
  for (const auto& t : x) in.push_back(&t);
  const double B = static_cast<double>(x[0].dim(0));
  before_forward();
  model.forward(in, true);
  model.backward(labels.data());
  // Frozen layers' and non-trainable weights get no gradient: they are not checked.
  auto trained = [](const LayerRef& layer, const Param& p) { return layer->trainable && p.trainable; };
  std::vector<Tensor> analytic;
  for (const auto& layer : model.layers())
    for (const auto& p : layer->params())
      if (trained(layer, p)) analytic.push_back(p.grad.clone());
  auto mean_loss = [&] {
    before_forward();
    return model.loss()->forward(model.forward(in, true), labels.data()) / B;
  };
  GradientReport report;
  size_t w = 0;
  for (const auto& layer : model.layers())
    for (auto& p : layer->params()) {
      if (!trained(layer, p)) continue;
      for (int64_t i = 0; i < p.value.size(); ++i)
        compare(report, tol, layer->name() + "/" + p.name + "[" + std::to_string(i) + "]", analytic[w][i],
                numeric_derivative(p.value[i], mean_loss, tol));
      ++w;
    }
  return report;
}

}  // namespace kiln::testing
