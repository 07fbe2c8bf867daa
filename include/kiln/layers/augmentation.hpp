// Keras's image augmentation layers: random flips, translations, crops, rotations and zooms of
// channels-last images, drawn anew for every image at every training step (reproducible for a
// model seed), and the identity in evaluate and predict (RandomCrop: a centred crop there).
#pragma once

#include <optional>
#include <string>

#include "kiln/layers/layer.hpp"

namespace kiln::layers {

// A range [lower, upper] of a random factor; `f` alone is [-f, f], as Keras reads a float.
struct FactorRange {
  double lower = 0, upper = 0;
  FactorRange() = default;
  FactorRange(double f) : lower(-f), upper(f) {}  // NOLINT: as Keras's factor=0.1
  FactorRange(double lo, double hi) : lower(lo), upper(hi) {}
  bool symmetric() const { return lower == -upper; }
};

struct RandomTranslationOptions {
  FactorRange height_factor;  // fractions of the height
  FactorRange width_factor;
  std::string fill_mode = "reflect";  // reflect, wrap, nearest, constant
  std::string interpolation = "bilinear";  // or nearest
  double fill_value = 0.0;
  Shape input_shape;
};

struct RandomRotationOptions {
  FactorRange factor;  // fractions of a full turn
  std::string fill_mode = "reflect";
  std::string interpolation = "bilinear";
  double fill_value = 0.0;
  Shape input_shape;
};

struct RandomZoomOptions {
  FactorRange height_factor;  // positive zooms out: 0.2 shows up to 20% more of the scene
  std::optional<FactorRange> width_factor;  // none: the height's factor, keeping the aspect
  std::string fill_mode = "reflect";
  std::string interpolation = "bilinear";
  double fill_value = 0.0;
  Shape input_shape;
};

namespace impl {

// Every augmentation: a map from output to input coordinates drawn per image, then a resample.
class RandomTransform : public Layer {
 public:
  enum class Kind { kFlip, kTranslation, kRotation, kZoom, kCrop };
  struct Options {
    Kind kind;
    std::string mode;  // RandomFlip's
    FactorRange height, width;
    bool same_zoom = false;  // RandomZoom without a width_factor
    int64_t crop_height = 0, crop_width = 0;
    std::string fill_mode = "reflect", interpolation = "bilinear";
    double fill_value = 0.0;
    Shape input_shape;
  };
  explicit RandomTransform(Options options);
  std::string class_name() const override;
  Shape build(std::span<const Shape> input_shapes) override;
  void forward(const Context& ctx, std::span<const Tensor* const> inputs, Tensor& out) override;
  void backward(const Context& ctx, std::span<const Tensor* const> inputs, const Tensor& out, Tensor& grad_out,
                std::span<const InputGrad> grad_inputs) override;
  nlohmann::json config() const override;
  Workspace workspace(int64_t batch, bool training) const override;
  bool backward_reads_inputs() const override { return false; }
  bool backward_reads_output() const override { return false; }
  Shape declared_input_shape() const override { return options_.input_shape; }
  const Options& options() const { return options_; }

 private:
  // Fills maps (six floats an image) for a batch: random in training, the inference map else.
  void draw_maps(float* maps, int64_t B, bool training, const RandomStream& random) const;
  bool identity_at_inference() const { return options_.kind != Kind::kCrop; }
  Options options_;
  int fill_ = 0;
};

}  // namespace impl

class RandomFlip : public LayerHandle<impl::RandomTransform> {
 public:
  // "horizontal", "vertical" or "horizontal_and_vertical".
  explicit RandomFlip(std::string mode = "horizontal_and_vertical", Shape input_shape = {});
};

class RandomTranslation : public LayerHandle<impl::RandomTransform> {
 public:
  RandomTranslation(FactorRange height_factor, FactorRange width_factor);
  RandomTranslation(RandomTranslationOptions options);
};

class RandomRotation : public LayerHandle<impl::RandomTransform> {
 public:
  explicit RandomRotation(FactorRange factor);
  RandomRotation(RandomRotationOptions options);
};

class RandomZoom : public LayerHandle<impl::RandomTransform> {
 public:
  explicit RandomZoom(FactorRange height_factor);
  RandomZoom(RandomZoomOptions options);
};

class RandomCrop : public LayerHandle<impl::RandomTransform> {
 public:
  RandomCrop(int64_t height, int64_t width, Shape input_shape = {});
};

}  // namespace kiln::layers
