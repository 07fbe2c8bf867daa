#include "plot/canvas.hpp"

#include <cairo-pdf.h>
#include <cairo-svg.h>

#include <algorithm>
#include <cctype>
#include <cmath>

#include "kiln/error.hpp"
#include "kiln/io.hpp"

namespace kiln::plot::detail {

namespace {

constexpr const char* kFont = "DejaVu Sans";

void select_font(cairo_t* cr, double size, bool bold) {
  cairo_select_font_face(cr, kFont, CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
}

cairo_status_t append(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

std::string lower_extension(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return ext;
}

void check(cairo_status_t status, const std::filesystem::path& path) {
  if (status != CAIRO_STATUS_SUCCESS)
    throw IoError("cannot draw '" + path.string() + "': " + cairo_status_to_string(status));
}

}  // namespace

double text_width(const std::string& s, double size, bool bold) {
  static cairo_surface_t* scratch = cairo_image_surface_create(CAIRO_FORMAT_A8, 1, 1);
  cairo_t* cr = cairo_create(scratch);
  select_font(cr, size, bold);
  cairo_text_extents_t ext;
  cairo_text_extents(cr, s.c_str(), &ext);
  cairo_destroy(cr);
  return ext.x_advance;
}

void check_picture_path(const std::filesystem::path& path) {
  std::string ext = lower_extension(path);
  if (ext != ".png" && ext != ".svg" && ext != ".pdf")
    throw ValueError("cannot tell the picture format of '" + path.string() +
                     "': expected a file name ending in .png, .svg or .pdf");
  std::filesystem::path folder = path.parent_path().empty() ? "." : path.parent_path();
  if (!std::filesystem::is_directory(folder))
    throw IoError("cannot write '" + path.string() + "': the folder '" + folder.string() +
                  "' does not exist");
}

Canvas::Canvas(std::filesystem::path path, int width, int height) : path_(std::move(path)) {
  check_picture_path(path_);
  std::string ext = lower_extension(path_);
  if (width < 1 || height < 1 || width > kMaxPixels || height > kMaxPixels)
    throw ValueError("a picture of " + std::to_string(width) + " x " + std::to_string(height) +
                     " pixels is too big to draw: at most " + std::to_string(kMaxPixels) +
                     " a side (fewer images or a smaller scale)");
  png_ = ext == ".png";
  if (png_)
    surface_ = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height);
  else if (ext == ".svg")
    surface_ = cairo_svg_surface_create_for_stream(append, &bytes_, width, height);
  else
    surface_ = cairo_pdf_surface_create_for_stream(append, &bytes_, width, height);
  cr_ = cairo_create(surface_);
  check(cairo_status(cr_), path_);
  cairo_set_source_rgb(cr_, 1, 1, 1);
  cairo_paint(cr_);
  cairo_set_source_rgb(cr_, 0, 0, 0);
}

Canvas::~Canvas() {
  if (cr_) cairo_destroy(cr_);
  if (surface_) cairo_surface_destroy(surface_);
}

void Canvas::color(Color c, double alpha) const {
  cairo_set_source_rgba(cr_, c.r, c.g, c.b, alpha);
}

void Canvas::line(double x0, double y0, double x1, double y1, double width) const {
  cairo_set_line_width(cr_, width);
  cairo_move_to(cr_, x0, y0);
  cairo_line_to(cr_, x1, y1);
  cairo_stroke(cr_);
}

void Canvas::text(const std::string& s, double x, double y, double size, double ax, double ay,
                  double angle, bool bold) const {
  cairo_save(cr_);
  select_font(cr_, size, bold);
  cairo_font_extents_t font;
  cairo_font_extents(cr_, &font);
  cairo_text_extents_t ext;
  cairo_text_extents(cr_, s.c_str(), &ext);
  cairo_translate(cr_, x, y);
  cairo_rotate(cr_, -angle * M_PI / 180.0);
  double line_height = font.ascent + font.descent;
  cairo_move_to(cr_, -ax * ext.x_advance, font.ascent - ay * line_height);
  cairo_show_text(cr_, s.c_str());
  cairo_restore(cr_);
}

void Canvas::save() {
  check(cairo_status(cr_), path_);
  cairo_surface_flush(surface_);
  if (png_) check(cairo_surface_write_to_png_stream(surface_, append, &bytes_), path_);
  cairo_surface_finish(surface_);
  check(cairo_surface_status(surface_), path_);
  io::write_file_atomic(path_, bytes_);
}

}  // namespace kiln::plot::detail
