// What every picture shares: a cairo surface for the output's format, text in DejaVu Sans
// anchored where it is wanted, colours, and writing the file whole.
#pragma once

#include <cairo.h>

#include <cstdint>
#include <filesystem>
#include <string>

namespace kiln::plot::detail {

struct Color {
  double r = 0, g = 0, b = 0;
};
// 0xRRGGBB.
constexpr Color rgb(uint32_t hex) {
  return {((hex >> 16) & 0xff) / 255.0, ((hex >> 8) & 0xff) / 255.0, (hex & 0xff) / 255.0};
}

// The longest side of a picture cairo can draw.
constexpr int kMaxPixels = 32767;

// Font sizes in pixels: matplotlib's 10 pt ticks and labels, 12 pt titles, at 100 dpi.
constexpr double kTextSize = 13.0, kLabelSize = 14.0, kTitleSize = 16.0;

// Throws ValueError unless the file name ends in .png, .svg or .pdf, and IoError unless its
// folder exists.
void check_picture_path(const std::filesystem::path& path);

// Width of s in pixels at a font size.
double text_width(const std::string& s, double size, bool bold = false);

class Canvas {
 public:
  // Checks the file name (.png, .svg or .pdf) and that its folder exists, then starts a white
  // picture of width x height pixels. Throws ValueError or IoError.
  Canvas(std::filesystem::path path, int width, int height);
  ~Canvas();
  Canvas(const Canvas&) = delete;
  Canvas& operator=(const Canvas&) = delete;

  cairo_t* cr() const { return cr_; }
  void color(Color c, double alpha = 1.0) const;
  void line(double x0, double y0, double x1, double y1, double width) const;
  // Draws s with its anchor point at (x, y): ax 0, 0.5, 1 = left, centre, right; ay 0, 0.5, 1 =
  // top, middle, bottom of the font's line. angle in degrees, counter-clockwise.
  void text(const std::string& s, double x, double y, double size, double ax, double ay,
            double angle = 0, bool bold = false) const;
  // Finishes the picture and writes the file (through a temporary and a rename).
  void save();

 private:
  std::filesystem::path path_;
  bool png_;
  std::string bytes_;
  cairo_surface_t* surface_ = nullptr;
  cairo_t* cr_ = nullptr;
};

}  // namespace kiln::plot::detail
