// A hyper-parameter search in two scatter plots: objective against trial number (with the best
// so far as a step line) and against the first hyperparameter (log axis for log sampling).
#include <algorithm>
#include <cmath>

#include "kiln/error.hpp"
#include "kiln/plot.hpp"
#include "plot/axes.hpp"
#include "plot/canvas.hpp"

namespace kiln::plot {

namespace {

using namespace detail;

struct Axis {
  double lo = 0, hi = 1;
  bool log = false;
  std::vector<double> ticks;
  std::vector<std::string> labels;
  double unit(double v) const {  // v's place along the axis, in [0, 1]
    return log ? (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo))
               : (v - lo) / (hi - lo);
  }
};

// matplotlib's 5% margins around the finite values (a decade-based margin for a log axis).
Axis axis_for(const std::vector<double>& values, bool log, bool integer) {
  double lo = INFINITY, hi = -INFINITY;
  for (double v : values)
    if (std::isfinite(v) && (!log || v > 0)) lo = std::min(lo, v), hi = std::max(hi, v);
  if (!(hi >= lo)) lo = log ? 1 : 0, hi = log ? 10 : 1;
  Axis a{.log = log};
  if (log) {
    const double l = std::log10(lo), h = std::log10(hi),
                 m = std::max(h - l, 0.5) * 0.05 + (h == l ? 0.5 : 0);
    a.lo = std::pow(10, l - m), a.hi = std::pow(10, h + m);
    // Powers of ten; 2 and 5 times them too when the range spans under two decades.
    const bool fine = std::log10(a.hi) - std::log10(a.lo) < 2;
    for (double e = std::floor(std::log10(a.lo)); e <= std::ceil(std::log10(a.hi)); ++e)
      for (int m : {1, 2, 5}) {
        const double t = m * std::pow(10, e);
        if (t < a.lo || t > a.hi || (m > 1 && !fine)) continue;
        char s[16];
        std::snprintf(s, sizeof s, "%de%d", m, static_cast<int>(e));
        a.ticks.push_back(t);
        a.labels.emplace_back(s);
      }
    return a;
  }
  const double m = hi == lo ? 0.5 : (hi - lo) * 0.05;
  a.lo = lo - m, a.hi = hi + m;
  a.ticks = nice_ticks(a.lo, a.hi, 6, integer);
  a.labels = tick_labels(a.ticks);
  return a;
}

// One panel: grid, points, frame, ticks and labels.
void panel(Canvas& canvas, const Rect& area, const Axis& xa, const Axis& ya,
           const std::vector<double>& xs, const std::vector<double>& ys, const std::string& xlabel,
           const std::string& ylabel) {
  cairo_t* cr = canvas.cr();
  auto px = [&](double x) { return area.x + xa.unit(x) * area.width; };
  auto py = [&](double y) { return area.y + area.height - ya.unit(y) * area.height; };
  canvas.color(rgb(0xb0b0b0), 0.6);
  for (double t : xa.ticks) canvas.line(px(t), area.y, px(t), area.y + area.height, 0.8);
  for (double t : ya.ticks) canvas.line(area.x, py(t), area.x + area.width, py(t), 0.8);
  canvas.color(cycle_color(0));
  for (size_t i = 0; i < xs.size(); ++i)
    if (std::isfinite(xs[i]) && std::isfinite(ys[i])) {
      cairo_arc(cr, px(xs[i]), py(ys[i]), 4.0, 0, 2 * M_PI);
      cairo_fill(cr);
    }
  canvas.color(rgb(0x000000));
  cairo_rectangle(cr, area.x, area.y, area.width, area.height);
  cairo_set_line_width(cr, 1.0);
  cairo_stroke(cr);
  const double bottom = area.y + area.height;
  for (size_t i = 0; i < xa.ticks.size(); ++i) {
    canvas.line(px(xa.ticks[i]), bottom, px(xa.ticks[i]), bottom + 4, 1.0);
    canvas.text(xa.labels[i], px(xa.ticks[i]), bottom + 7, kTextSize, 0.5, 0);
  }
  for (size_t i = 0; i < ya.ticks.size(); ++i) {
    canvas.line(area.x - 4, py(ya.ticks[i]), area.x, py(ya.ticks[i]), 1.0);
    canvas.text(ya.labels[i], area.x - 7, py(ya.ticks[i]), kTextSize, 1, 0.5);
  }
  canvas.text(xlabel, area.x + area.width / 2, bottom + 7 + kTextSize + 10, kLabelSize, 0.5, 0);
  canvas.text(ylabel, area.x - 60, area.y + area.height / 2, kLabelSize, 0.5, 0, 90);
}

}  // namespace

std::vector<Rect> search_results(const SearchPlotData& d, const std::filesystem::path& path) {
  const size_t n = d.trial.size();
  if (d.score.size() != n || d.value.size() != n)
    throw ValueError("search_results: " + std::to_string(n) + " trials but " +
                     std::to_string(d.score.size()) + " scores and " +
                     std::to_string(d.value.size()) + " values");
  const int width = 1000, height = 450;
  const Axis ya = axis_for(d.score, false, false), ta = axis_for(d.trial, false, true);
  Axis va = axis_for(d.value, d.log_scale, !d.categories.empty());
  if (!d.categories.empty()) {
    va.lo = -0.5, va.hi = static_cast<double>(d.categories.size()) - 0.5;
    va.ticks.clear();
    for (size_t i = 0; i < d.categories.size(); ++i) va.ticks.push_back(static_cast<double>(i));
    va.labels = d.categories;
  }
  const double top = 14 + kTitleSize + 14, bottom = 8 + kTextSize + 10 + kLabelSize + 14, left = 80,
               gap = 90;
  const double w = (width - left - gap - 20) / 2, h = height - top - bottom;
  const Rect a{left, top, w, h}, b{left + w + gap, top, w, h};

  Canvas canvas(path, width, height);
  panel(canvas, a, ta, ya, d.trial, d.score, "Trial", d.objective);
  panel(canvas, b, va, ya, d.value, d.score, d.parameter + (d.log_scale ? " (log scale)" : ""),
        d.objective);
  // The best score so far, as a step line over the trials.
  cairo_t* cr = canvas.cr();
  cairo_save(cr);
  cairo_rectangle(cr, a.x, a.y, a.width, a.height);
  cairo_clip(cr);
  canvas.color(cycle_color(1));
  cairo_set_line_width(cr, 1.5);
  double best = NAN;
  bool drawing = false;
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(d.score[i])) continue;
    const double x = a.x + ta.unit(d.trial[i]) * a.width;
    if (std::isnan(best) || (d.maximize ? d.score[i] > best : d.score[i] < best)) {
      if (drawing) cairo_line_to(cr, x, a.y + a.height - ya.unit(best) * a.height);
      best = d.score[i];
    }
    const double y = a.y + a.height - ya.unit(best) * a.height;
    drawing ? cairo_line_to(cr, x, y) : cairo_move_to(cr, x, y);
    drawing = true;
  }
  cairo_stroke(cr);
  cairo_restore(cr);
  canvas.color(rgb(0x000000));
  canvas.text(d.objective + " by trial (best so far in orange)", a.x + a.width / 2, 12, kTitleSize,
              0.5, 0);
  canvas.text(d.objective + " by " + d.parameter, b.x + b.width / 2, 12, kTitleSize, 0.5, 0);
  canvas.save();
  return {a, b};
}

}  // namespace kiln::plot
