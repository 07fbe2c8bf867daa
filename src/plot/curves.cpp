// Learning curves: pd.DataFrame(history.history).plot() with a grid, a legend and labels.
#include <algorithm>
#include <cmath>
#include <iostream>

#include "kiln/error.hpp"
#include "kiln/plot.hpp"
#include "plot/axes.hpp"
#include "plot/canvas.hpp"

namespace kiln::plot {

namespace {

using namespace detail;

// loss, the other metrics (sorted), then the val_ version of each in the same order.
std::vector<std::string> column_order(const History& h) {
  std::vector<std::string> base, out;
  if (h.history.count("loss")) base.push_back("loss");
  for (const auto& [name, _] : h.history)
    if (name != "loss" && !name.starts_with("val_")) base.push_back(name);
  for (const auto& name : base) out.push_back(name);
  for (const auto& name : base)
    if (h.history.count("val_" + name)) out.push_back("val_" + name);
  for (const auto& [name, _] : h.history)  // val_ columns without a training twin
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  return out;
}

struct Range {
  double lo = INFINITY, hi = -INFINITY;
  void add(double v) {
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  }
  // matplotlib's 5% margins; a single value gets a unit-wide range around it.
  Range padded(double single) const {
    if (!(hi >= lo)) return {0, 1};
    if (hi == lo) return {lo - single, hi + single};
    double m = (hi - lo) * 0.05;
    return {lo - m, hi + m};
  }
};

}  // namespace

Rect learning_curves(const History& history, const std::filesystem::path& path,
                     const CurvesOptions& options) {
  if (history.history.empty())
    throw ValueError("learning_curves: the history has no columns to plot");
  size_t n = history.history.begin()->second.size();
  for (const auto& [name, values] : history.history)
    if (values.size() != n)
      throw ValueError("learning_curves: column '" + name + "' has " +
                       std::to_string(values.size()) + " values, the others " + std::to_string(n));
  if (n == 0) throw ValueError("learning_curves: the history has no epochs to plot");
  if (!history.epoch.empty() && history.epoch.size() != n)
    throw ValueError("learning_curves: " + std::to_string(history.epoch.size()) + " epochs but " +
                     std::to_string(n) + " values per column");
  if (options.ylim && !(options.ylim->second > options.ylim->first))
    throw ValueError("learning_curves: ylim must be (low, high) with low < high");
  auto x_of = [&](size_t i) {
    return history.epoch.empty() ? static_cast<double>(i) : history.epoch[i];
  };
  std::vector<std::string> columns = column_order(history);

  Range xr, yr;
  for (size_t i = 0; i < n; ++i) xr.add(x_of(i));
  for (const auto& [_, values] : history.history)
    for (double v : values) yr.add(v);
  Range xs = xr.padded(0.5),
        ys = options.ylim ? Range{options.ylim->first, options.ylim->second} : yr.padded(0.5);
  std::vector<double> xt = nice_ticks(xs.lo, xs.hi, 8, true), yt = nice_ticks(ys.lo, ys.hi, 8);
  std::vector<std::string> xl = tick_labels(xt), yl = tick_labels(yt);

  double label_w = 0;
  for (const auto& s : yl) label_w = std::max(label_w, text_width(s, kTextSize));
  double left = 12 + kLabelSize + 10 + label_w + 8,
         right = 20 + text_width(xl.back(), kTextSize) / 2;
  double top = 14 + kTitleSize + 14, bottom = 8 + kTextSize + 10 + kLabelSize + 14;
  Rect area{left, top, options.width - left - right, options.height - top - bottom};
  if (area.width < 50 || area.height < 50)
    throw ValueError("learning_curves: a " + std::to_string(options.width) + " x " +
                     std::to_string(options.height) + " picture leaves no room for the plot");
  auto px = [&](double x) { return area.x + (x - xs.lo) / (xs.hi - xs.lo) * area.width; };
  auto py = [&](double y) {
    return area.y + area.height - (y - ys.lo) / (ys.hi - ys.lo) * area.height;
  };

  Canvas canvas(path, options.width, options.height);
  cairo_t* cr = canvas.cr();
  canvas.color(rgb(0xb0b0b0), 0.6);
  for (double t : xt) canvas.line(px(t), area.y, px(t), area.y + area.height, 0.8);
  for (double t : yt) canvas.line(area.x, py(t), area.x + area.width, py(t), 0.8);

  cairo_save(cr);
  cairo_rectangle(cr, area.x, area.y, area.width, area.height);
  cairo_clip(cr);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
  for (size_t c = 0; c < columns.size(); ++c) {
    const auto& values = history.history.at(columns[c]);
    canvas.color(cycle_color(c));
    cairo_set_line_width(cr, 2.0);
    bool drawing = false;
    for (size_t i = 0; i < n; ++i) {
      if (!std::isfinite(values[i])) {
        drawing = false;
        continue;
      }
      if (drawing)
        cairo_line_to(cr, px(x_of(i)), py(values[i]));
      else
        cairo_move_to(cr, px(x_of(i)), py(values[i]));
      drawing = true;
    }
    cairo_stroke(cr);
    if (n == 1 && std::isfinite(values[0])) {  // one epoch: a dot, as there is no line yet
      cairo_arc(cr, px(x_of(0)), py(values[0]), 3.5, 0, 2 * M_PI);
      cairo_fill(cr);
    }
  }
  cairo_restore(cr);

  canvas.color(rgb(0x000000));
  cairo_rectangle(cr, area.x, area.y, area.width, area.height);
  cairo_set_line_width(cr, 1.0);
  cairo_stroke(cr);
  double bottom_y = area.y + area.height;
  for (size_t i = 0; i < xt.size(); ++i) {
    canvas.line(px(xt[i]), bottom_y, px(xt[i]), bottom_y + 4, 1.0);
    canvas.text(xl[i], px(xt[i]), bottom_y + 7, kTextSize, 0.5, 0);
  }
  for (size_t i = 0; i < yt.size(); ++i) {
    canvas.line(area.x - 4, py(yt[i]), area.x, py(yt[i]), 1.0);
    canvas.text(yl[i], area.x - 7, py(yt[i]), kTextSize, 1, 0.5);
  }
  canvas.text("Epoch", area.x + area.width / 2, options.height - 12, kLabelSize, 0.5, 1);
  canvas.text("Value", 12, area.y + area.height / 2, kLabelSize, 0.5, 0, 90);
  canvas.text(options.title, area.x + area.width / 2, 12, kTitleSize, 0.5, 0);

  // The legend goes where its box covers the fewest points of the lines (matplotlib's "best"):
  // the corners first, then the middles of the sides, then the centre.
  double name_w = 0;
  for (const auto& c : columns) name_w = std::max(name_w, text_width(c, kTextSize));
  double row_h = 20, box_w = 10 + 28 + 8 + name_w + 10, box_h = row_h * columns.size() + 8;
  Rect best;
  size_t fewest = SIZE_MAX;
  const double spots[][2] = {{1, 0},   {0, 0},   {0, 1},   {1, 1},    {1, 0.5},
                             {0, 0.5}, {0.5, 1}, {0.5, 0}, {0.5, 0.5}};
  for (const auto& [fx, fy] : spots) {
    Rect box{area.x + 8 + fx * (area.width - box_w - 16),
             area.y + 8 + fy * (area.height - box_h - 16), box_w, box_h};
    size_t inside = 0;
    for (const auto& c : columns) {
      const auto& v = history.history.at(c);
      for (size_t i = 0; i + 1 < std::max<size_t>(n, 2); ++i)
        for (int s = 0; s <= 10; ++s) {
          size_t j = std::min(i + 1, n - 1);
          double x = px(x_of(i) + (x_of(j) - x_of(i)) * s / 10),
                 y = py(v[i] + (v[j] - v[i]) * s / 10);
          inside += x >= box.x && x <= box.x + box.width && y >= box.y && y <= box.y + box.height;
        }
    }
    if (inside < fewest) fewest = inside, best = box;
  }
  cairo_rectangle(cr, best.x, best.y, best.width, best.height);
  canvas.color(rgb(0xffffff), 0.8);
  cairo_fill_preserve(cr);
  canvas.color(rgb(0xcccccc));
  cairo_set_line_width(cr, 1.0);
  cairo_stroke(cr);
  for (size_t c = 0; c < columns.size(); ++c) {
    double y = best.y + 4 + row_h * (c + 0.5);
    canvas.color(cycle_color(c));
    canvas.line(best.x + 10, y, best.x + 38, y, 2.0);
    canvas.color(rgb(0x000000));
    canvas.text(columns[c], best.x + 46, y, kTextSize, 0, 0.5);
  }
  canvas.save();
  return area;
}

LearningCurvesPlotter::LearningCurvesPlotter(std::filesystem::path path, CurvesOptions options)
    : path_(std::move(path)), options_(std::move(options)) {}

void LearningCurvesPlotter::on_train_begin(const Logs&) {
  check_picture_path(path_);
  history_ = History();
  warned_ = false;
}

// Within fit, the fit's own history, which holds the epochs of a run continued from a backup too.
void LearningCurvesPlotter::on_epoch_end(int epoch, const Logs& logs) {
  history_.epoch.push_back(epoch);
  for (const auto& [k, v] : logs.items()) history_.history[k].push_back(v);
  try {
    learning_curves(fit_state() ? fit_state()->history : history_, path_, options_);
  } catch (const Error& e) {
    if (!warned_) std::cerr << "kiln: warning: the learning curves were not redrawn: " << e.what() << '\n';
    warned_ = true;
  }
}

}  // namespace kiln::plot
