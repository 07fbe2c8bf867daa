// Grids of images, scaled up pixel for pixel, with captions: plt.imshow in a subplot grid.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "kiln/error.hpp"
#include "kiln/plot.hpp"
#include "plot/axes.hpp"
#include "plot/canvas.hpp"

namespace kiln::plot {

namespace {

using namespace detail;

// 0xRRGGBB for a grey level under a colour map. viridis: matplotlib's map, interpolated
// between eleven of its colours.
uint32_t map_color(const std::string& cmap, uint8_t v) {
  if (cmap == "gray") return v * 0x010101u;
  if (cmap == "binary") return (255 - v) * 0x010101u;
  static constexpr uint32_t viridis[] = {0x440154, 0x482475, 0x414487, 0x355f8d,
                                         0x2a788e, 0x21918c, 0x22a884, 0x44bf70,
                                         0x7ad151, 0xbddf26, 0xfde725};
  auto [r, g, b] = color_map(viridis, v / 255.0);
  return static_cast<uint32_t>(std::lround(r)) << 16 | static_cast<uint32_t>(std::lround(g)) << 8 |
         static_cast<uint32_t>(std::lround(b));
}

std::vector<std::string> lines_of(const std::string& caption) {
  std::vector<std::string> out;
  std::istringstream in(caption);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// One image as a cairo surface already scaled up, each image pixel a scale x scale block: drawn
// at 1:1, it stays crisp in every format (SVG and PDF viewers smooth a small image stretched
// by the drawing, whatever filter it asks for).
cairo_surface_t* image_surface(const ByteTensor& images, int64_t index, const std::string& cmap,
                               int scale) {
  int64_t h = images.dim(1), w = images.dim(2), c = images.rank() == 4 ? images.dim(3) : 1;
  cairo_surface_t* s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, static_cast<int>(w * scale),
                                                  static_cast<int>(h * scale));
  cairo_surface_flush(s);
  unsigned char* data = cairo_image_surface_get_data(s);
  int stride = cairo_image_surface_get_stride(s);
  const uint8_t* src = images.data() + index * h * w * c;
  for (int64_t y = 0; y < h * scale; ++y) {
    auto* row = reinterpret_cast<uint32_t*>(data + y * stride);
    for (int64_t x = 0; x < w * scale; ++x) {
      const uint8_t* p = src + ((y / scale) * w + x / scale) * c;
      row[x] = c == 3 ? (uint32_t(p[0]) << 16 | uint32_t(p[1]) << 8 | p[2]) : map_color(cmap, p[0]);
    }
  }
  cairo_surface_mark_dirty(s);
  return s;
}

}  // namespace

std::vector<Rect> image_grid(const ByteTensor& images, const std::vector<std::string>& captions,
                             const std::filesystem::path& path, const GridOptions& options) {
  bool color = images.rank() == 4 && images.dim(3) == 3;
  if (!(images.rank() == 3 || (images.rank() == 4 && (images.dim(3) == 1 || color))))
    throw ShapeError(
        "image_grid: expected images shaped (N, H, W) or (N, H, W, C) with C 1 or 3, received " +
        shape_str(images.shape()));
  int64_t n = images.dim(0);
  if (n == 0) throw ValueError("image_grid: no images to draw");
  if (!captions.empty() && static_cast<int64_t>(captions.size()) != n)
    throw ValueError("image_grid: " + std::to_string(captions.size()) + " captions for " +
                     std::to_string(n) + " images");
  if (options.scale < 1 || options.scale > 64)
    throw ValueError("image_grid: scale must be in [1, 64], received " +
                     std::to_string(options.scale));
  if (options.cmap != "gray" && options.cmap != "binary" && options.cmap != "viridis")
    throw ValueError("image_grid: unknown colour map '" + options.cmap +
                     "': expected gray, binary or viridis");
  if (options.columns < 0) throw ValueError("image_grid: columns must not be negative");

  int64_t cols = options.columns
                     ? std::min(options.columns, n)
                     : static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(n))));
  int64_t rows = (n + cols - 1) / cols;
  int64_t img_w = images.dim(2) * options.scale, img_h = images.dim(1) * options.scale;
  size_t caption_lines = 0;
  double caption_w = 0;
  for (const auto& c : captions) {
    auto lines = lines_of(c);
    caption_lines = std::max(caption_lines, lines.size());
    for (const auto& l : lines) caption_w = std::max(caption_w, text_width(l, kTextSize));
  }
  const int64_t pad = 10, line_h = 17;
  int64_t cell_w = std::max<int64_t>(img_w, static_cast<int64_t>(std::ceil(caption_w)) + 4);
  int64_t cell_h = img_h + static_cast<int64_t>(caption_lines) * line_h + (caption_lines ? 6 : 0);
  int64_t title_h = options.title.empty() ? 0 : static_cast<int64_t>(kTitleSize) + 14;
  int64_t width = pad + cols * (cell_w + pad), height = pad + title_h + rows * (cell_h + pad);
  if (width > kMaxPixels || height > kMaxPixels)
    throw ValueError(
        "image_grid: " + std::to_string(n) + " images at scale " + std::to_string(options.scale) +
        " make a picture of " + std::to_string(width) + " x " + std::to_string(height) +
        " pixels, over the " + std::to_string(kMaxPixels) +
        " a side that can be drawn: show fewer or use a smaller --scale");

  Canvas canvas(path, static_cast<int>(width), static_cast<int>(height));
  cairo_t* cr = canvas.cr();
  if (!options.title.empty()) canvas.text(options.title, width / 2.0, pad, kTitleSize, 0.5, 0);
  std::vector<Rect> placed;
  for (int64_t i = 0; i < n; ++i) {
    int64_t cx = pad + (i % cols) * (cell_w + pad),
            cy = pad + title_h + (i / cols) * (cell_h + pad);
    Rect r{static_cast<double>(cx + (cell_w - img_w) / 2), static_cast<double>(cy),
           static_cast<double>(img_w), static_cast<double>(img_h)};
    cairo_surface_t* img = image_surface(images, i, options.cmap, options.scale);
    cairo_set_source_surface(cr, img, r.x, r.y);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
    cairo_rectangle(cr, r.x, r.y, r.width, r.height);
    cairo_fill(cr);
    cairo_surface_destroy(img);
    placed.push_back(r);
    if (captions.empty()) continue;
    canvas.color(rgb(0x000000));
    auto lines = lines_of(captions[i]);
    for (size_t l = 0; l < lines.size(); ++l)
      canvas.text(lines[l], cx + cell_w / 2.0, static_cast<double>(cy + img_h + 4 + l * line_h),
                  kTextSize, 0.5, 0);
  }
  canvas.save();
  return placed;
}

}  // namespace kiln::plot
