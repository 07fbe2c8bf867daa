// The confusion matrix as a picture: counts in cells shaded by their share of the true class.
#include <algorithm>
#include <cmath>

#include "kiln/error.hpp"
#include "kiln/plot.hpp"
#include "plot/axes.hpp"
#include "plot/canvas.hpp"

namespace kiln::plot {

namespace {

using namespace detail;

// matplotlib's "Blues", interpolated between nine of its colours; t in [0, 1].
Color blues(double t) {
  static constexpr uint32_t stops[] = {0xf7fbff, 0xdeebf7, 0xc6dbef, 0x9ecae1, 0x6baed6,
                                       0x4292c6, 0x2171b5, 0x08519c, 0x08306b};
  auto [r, g, b] = color_map(stops, t);
  return {r / 255.0, g / 255.0, b / 255.0};
}

}  // namespace

Rect confusion_matrix(const ConfusionMatrix& cm, const std::vector<std::string>& class_names,
                      const std::filesystem::path& path, const ConfusionOptions& options) {
  int64_t n = cm.classes;
  if (n < 1 || static_cast<int64_t>(cm.counts.size()) != n * n)
    throw ValueError("confusion_matrix: expected " + std::to_string(n) + " x " + std::to_string(n) +
                     " counts, received " + std::to_string(cm.counts.size()));
  if (static_cast<int64_t>(class_names.size()) != n)
    throw ValueError("confusion_matrix: " + std::to_string(class_names.size()) +
                     " class names for " + std::to_string(n) + " classes");
  double name_w = 0, count_w = 0;
  for (const auto& s : class_names) name_w = std::max(name_w, text_width(s, kTextSize));
  for (int64_t c : cm.counts) count_w = std::max(count_w, text_width(std::to_string(c), kTextSize));
  double cell = std::max(48.0, std::ceil(count_w) + 12);
  const double diag = std::sqrt(0.5);  // x labels run at 45 degrees
  double left = 12 + kLabelSize + 12 + name_w + 8, top = 14 + kTitleSize + 16;
  double bottom = 8 + name_w * diag + kTextSize * diag + 12 + kLabelSize + 14, right = 24;
  Rect area{left, top, cell * n, cell * n};
  int width = static_cast<int>(std::ceil(left + area.width + right));
  int height = static_cast<int>(std::ceil(top + area.height + bottom));

  Canvas canvas(path, width, height);
  cairo_t* cr = canvas.cr();
  for (int64_t t = 0; t < n; ++t) {
    int64_t row = 0;
    for (int64_t p = 0; p < n; ++p) row += cm(t, p);
    for (int64_t p = 0; p < n; ++p) {
      double share = row ? static_cast<double>(cm(t, p)) / static_cast<double>(row) : 0.0;
      double x = area.x + p * cell, y = area.y + t * cell;
      canvas.color(blues(share));
      cairo_rectangle(cr, x, y, cell, cell);
      cairo_fill(cr);
      canvas.color(share > 0.5 ? rgb(0xffffff) : rgb(0x000000));
      canvas.text(std::to_string(cm(t, p)), x + cell / 2, y + cell / 2, kTextSize, 0.5, 0.5);
    }
  }
  canvas.color(rgb(0x000000));
  cairo_rectangle(cr, area.x, area.y, area.width, area.height);
  cairo_set_line_width(cr, 1.0);
  cairo_stroke(cr);
  double below = area.y + area.height;
  for (int64_t k = 0; k < n; ++k) {
    double c = area.x + (k + 0.5) * cell, r = area.y + (k + 0.5) * cell;
    canvas.line(c, below, c, below + 4, 1.0);
    canvas.line(area.x - 4, r, area.x, r, 1.0);
    canvas.text(class_names[k], area.x - 7, r, kTextSize, 1, 0.5);
    // Rotated 45 degrees, ending just under its tick.
    canvas.text(class_names[k], c + 4, below + 8, kTextSize, 1, 0, 45);
  }
  canvas.text("Predicted label", area.x + area.width / 2, height - 12, kLabelSize, 0.5, 1);
  canvas.text("True label", 12, area.y + area.height / 2, kLabelSize, 0.5, 0, 90);
  canvas.text(options.title, area.x + area.width / 2, 12, kTitleSize, 0.5, 0);
  canvas.save();
  return area;
}

}  // namespace kiln::plot
