#include "kiln/layers/augmentation.hpp"

#include <cmath>
#include <numbers>

#include "kernels/cpu/resample.hpp"

namespace kiln::layers {

namespace impl {

namespace {

cpu::Fill parse_fill(const std::string& mode, const std::string& layer) {
  if (mode == "reflect") return cpu::Fill::kReflect;
  if (mode == "wrap") return cpu::Fill::kWrap;
  if (mode == "nearest") return cpu::Fill::kNearest;
  if (mode == "constant") return cpu::Fill::kConstant;
  throw ValueError(layer + ": fill_mode must be \"reflect\", \"wrap\", \"nearest\" or \"constant\", received \"" +
                   mode + "\"");
}

nlohmann::json factor_json(const FactorRange& f) {
  if (f.symmetric()) return std::abs(f.upper);
  return {f.lower, f.upper};
}

void check_range(const FactorRange& f, const char* argument, const std::string& layer, double least) {
  if (!(f.lower <= f.upper) || f.lower < least)
    throw ValueError(layer + ": " + argument + " must be a range [lower, upper] with lower <= upper and lower >= " +
                     std::to_string(least) + ", received [" + std::to_string(f.lower) + ", " +
                     std::to_string(f.upper) + "]");
}

const char* kind_name(RandomTransform::Kind kind) {
  switch (kind) {
    case RandomTransform::Kind::kFlip: return "RandomFlip";
    case RandomTransform::Kind::kTranslation: return "RandomTranslation";
    case RandomTransform::Kind::kRotation: return "RandomRotation";
    case RandomTransform::Kind::kZoom: return "RandomZoom";
    case RandomTransform::Kind::kCrop: return "RandomCrop";
  }
  return "";
}

}  // namespace

RandomTransform::RandomTransform(Options options) : options_(std::move(options)) {
  const std::string me = kind_name(options_.kind);
  if (options_.kind == Kind::kFlip && options_.mode != "horizontal" && options_.mode != "vertical" &&
      options_.mode != "horizontal_and_vertical")
    throw ValueError(me + ": mode must be \"horizontal\", \"vertical\" or \"horizontal_and_vertical\", received \"" +
                     options_.mode + "\"");
  if (options_.kind == Kind::kCrop && (options_.crop_height <= 0 || options_.crop_width <= 0))
    throw ValueError(me + ": height and width must be positive, received " + std::to_string(options_.crop_height) +
                     " and " + std::to_string(options_.crop_width));
  const double least = options_.kind == Kind::kZoom ? -1.0 : -1e300;
  check_range(options_.height, options_.kind == Kind::kRotation ? "factor" : "height_factor", me, least);
  check_range(options_.width, "width_factor", me, least);
  fill_ = static_cast<int>(parse_fill(options_.fill_mode, me));
  if (options_.interpolation != "bilinear" && options_.interpolation != "nearest")
    throw ValueError(me + ": interpolation must be \"bilinear\" or \"nearest\", received \"" +
                     options_.interpolation + "\"");
}

std::string RandomTransform::class_name() const { return kind_name(options_.kind); }

Shape RandomTransform::build(std::span<const Shape> input_shapes) {
  const Shape& in = single_input(input_shapes);
  require_image(in);
  const std::string me = class_name() + " '" + name() + "'";
  if (options_.kind != Kind::kCrop) return in;
  if (options_.crop_height > in[0] || options_.crop_width > in[1])
    throw ShapeError(me + ": the crop (" + std::to_string(options_.crop_height) + ", " +
                     std::to_string(options_.crop_width) + ") is larger than the input " + shape_str(in));
  return {options_.crop_height, options_.crop_width, in[2]};
}

Workspace RandomTransform::workspace(int64_t batch, bool) const { return {.scratch = batch * cpu::kAffineFloats}; }

void RandomTransform::draw_maps(float* maps, int64_t B, bool training, const RandomStream& random) const {
  const Shape& in = input_shapes()[0];
  const double h = static_cast<double>(in[0]), w = static_cast<double>(in[1]);
  for (int64_t b = 0; b < B; ++b) {
    auto u = [&](int j) { return static_cast<double>(random.uniform(static_cast<uint64_t>(b * 4 + j))); };
    auto between = [&](const FactorRange& f, int j) { return f.lower + (f.upper - f.lower) * u(j); };
    double m[cpu::kAffineFloats] = {1, 0, 0, 0, 1, 0};
    switch (options_.kind) {
      case Kind::kFlip:
        if (!training) break;
        if (options_.mode != "vertical" && u(0) < 0.5) m[0] = -1, m[2] = w - 1;
        if (options_.mode != "horizontal" && u(1) < 0.5) m[4] = -1, m[5] = h - 1;
        break;
      case Kind::kTranslation:
        if (!training) break;
        m[2] = -between(options_.width, 0) * w;
        m[5] = -between(options_.height, 1) * h;
        break;
      case Kind::kRotation: {
        if (!training) break;
        const double angle = between(options_.height, 0) * 2 * std::numbers::pi;
        const double c = std::cos(angle), s = std::sin(angle);
        m[0] = c, m[1] = -s, m[2] = ((w - 1) - (c * (w - 1) - s * (h - 1))) / 2;
        m[3] = s, m[4] = c, m[5] = ((h - 1) - (s * (w - 1) + c * (h - 1))) / 2;
        break;
      }
      case Kind::kZoom: {
        if (!training) break;
        const double zy = 1 + between(options_.height, 0);
        const double zx = options_.same_zoom ? zy : 1 + between(options_.width, 1);
        m[0] = zx, m[2] = (w - 1) / 2 * (1 - zx);
        m[4] = zy, m[5] = (h - 1) / 2 * (1 - zy);
        break;
      }
      case Kind::kCrop: {
        const int64_t spare_h = in[0] - options_.crop_height, spare_w = in[1] - options_.crop_width;
        const auto pick = [&](int64_t spare, int j) {
          return training ? std::min<int64_t>(static_cast<int64_t>(u(j) * static_cast<double>(spare + 1)), spare)
                          : spare / 2;
        };
        m[5] = static_cast<double>(pick(spare_h, 0));
        m[2] = static_cast<double>(pick(spare_w, 1));
        break;
      }
    }
    for (int k = 0; k < cpu::kAffineFloats; ++k) maps[b * cpu::kAffineFloats + k] = static_cast<float>(m[k]);
  }
}

namespace {
cpu::ResampleShape resample_shape(const Shape& in, const Shape& out) { return {in[0], in[1], in[2], out[0], out[1]}; }
}  // namespace

void RandomTransform::forward(const Context& ctx, std::span<const Tensor* const> inputs, Tensor& out) {
  const Tensor& in = *inputs[0];
  if (!ctx.training && identity_at_inference()) {
    std::copy_n(in.data(), in.size(), out.data());
    return;
  }
  const int64_t B = in.dim(0);
  draw_maps(ctx.scratch.data(), B, ctx.training, ctx.random);
  cpu::resample(out.data(), in.data(), resample_shape(input_shapes()[0], output_shape()), B, ctx.scratch.data(),
                static_cast<cpu::Fill>(fill_), options_.interpolation == "bilinear",
                static_cast<float>(options_.fill_value));
}

void RandomTransform::backward(const Context& ctx, std::span<const Tensor* const>, const Tensor&, Tensor& grad_out,
                               std::span<const InputGrad> grad_inputs) {
  const InputGrad& gin = grad_inputs[0];
  if (!gin.tensor) return;
  const int64_t B = grad_out.dim(0);
  draw_maps(ctx.scratch.data(), B, true, ctx.random);
  cpu::resample_backward(gin.tensor->data(), gin.accumulate, grad_out.data(),
                         resample_shape(input_shapes()[0], output_shape()), B, ctx.scratch.data(),
                         static_cast<cpu::Fill>(fill_), options_.interpolation == "bilinear");
}

nlohmann::json RandomTransform::config() const {
  const Options& o = options_;
  nlohmann::json c;
  switch (o.kind) {
    case Kind::kFlip:
      c["mode"] = o.mode;
      break;
    case Kind::kCrop:
      c["height"] = o.crop_height;
      c["width"] = o.crop_width;
      break;
    case Kind::kRotation:
      c["factor"] = factor_json(o.height);
      break;
    case Kind::kTranslation:
      c["height_factor"] = factor_json(o.height);
      c["width_factor"] = factor_json(o.width);
      break;
    case Kind::kZoom:
      c["height_factor"] = factor_json(o.height);
      c["width_factor"] = o.same_zoom ? nlohmann::json(nullptr) : factor_json(o.width);
      break;
  }
  if (o.kind != Kind::kFlip && o.kind != Kind::kCrop) {
    c["fill_mode"] = o.fill_mode;
    c["interpolation"] = o.interpolation;
    c["fill_value"] = o.fill_value;
  }
  c["seed"] = nullptr;
  return c;
}

}  // namespace impl

using Kind = impl::RandomTransform::Kind;

RandomFlip::RandomFlip(std::string mode, Shape input_shape)
    : LayerHandle(std::make_shared<impl::RandomTransform>(impl::RandomTransform::Options{
          .kind = Kind::kFlip, .mode = std::move(mode), .input_shape = std::move(input_shape)})) {}

RandomTranslation::RandomTranslation(FactorRange height_factor, FactorRange width_factor)
    : RandomTranslation(RandomTranslationOptions{.height_factor = height_factor, .width_factor = width_factor}) {}
RandomTranslation::RandomTranslation(RandomTranslationOptions o)
    : LayerHandle(std::make_shared<impl::RandomTransform>(impl::RandomTransform::Options{
          .kind = Kind::kTranslation, .height = o.height_factor, .width = o.width_factor, .fill_mode = o.fill_mode,
          .interpolation = o.interpolation, .fill_value = o.fill_value, .input_shape = o.input_shape})) {}

RandomRotation::RandomRotation(FactorRange factor) : RandomRotation(RandomRotationOptions{.factor = factor}) {}
RandomRotation::RandomRotation(RandomRotationOptions o)
    : LayerHandle(std::make_shared<impl::RandomTransform>(impl::RandomTransform::Options{
          .kind = Kind::kRotation, .height = o.factor, .fill_mode = o.fill_mode, .interpolation = o.interpolation,
          .fill_value = o.fill_value, .input_shape = o.input_shape})) {}

RandomZoom::RandomZoom(FactorRange height_factor) : RandomZoom(RandomZoomOptions{.height_factor = height_factor}) {}
RandomZoom::RandomZoom(RandomZoomOptions o)
    : LayerHandle(std::make_shared<impl::RandomTransform>(impl::RandomTransform::Options{
          .kind = Kind::kZoom, .height = o.height_factor, .width = o.width_factor.value_or(o.height_factor),
          .same_zoom = !o.width_factor, .fill_mode = o.fill_mode, .interpolation = o.interpolation,
          .fill_value = o.fill_value, .input_shape = o.input_shape})) {}

RandomCrop::RandomCrop(int64_t height, int64_t width, Shape input_shape)
    : LayerHandle(std::make_shared<impl::RandomTransform>(impl::RandomTransform::Options{
          .kind = Kind::kCrop, .crop_height = height, .crop_width = width, .input_shape = std::move(input_shape)})) {}

}  // namespace kiln::layers
