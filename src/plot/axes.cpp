#include "plot/axes.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace kiln::plot::detail {

std::vector<double> nice_ticks(double lo, double hi, int target, bool integer) {
  double span = hi - lo;
  if (!(span > 0) || !std::isfinite(span)) return {lo};
  double raw = span / std::max(target, 1);
  double power = std::pow(10.0, std::floor(std::log10(raw)));
  double step = power * 10;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (m * power >= raw) {
      step = m * power;
      break;
    }
  if (integer) step = std::max(1.0, std::round(step));
  std::vector<double> out;
  for (double t = std::ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step)
    out.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  return out;
}

std::vector<std::string> tick_labels(const std::vector<double>& ticks) {
  int decimals = 0;
  for (double t : ticks)
    while (decimals < 6 &&
           std::abs(t * std::pow(10.0, decimals) - std::round(t * std::pow(10.0, decimals))) > 1e-6)
      ++decimals;
  std::vector<std::string> out;
  char buf[64];
  for (double t : ticks) {
    std::snprintf(buf, sizeof buf, "%.*f", decimals, t);
    out.emplace_back(buf);
  }
  return out;
}

Color cycle_color(size_t i) {
  static constexpr uint32_t tab10[] = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
                                       0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf};
  return rgb(tab10[i % 10]);
}

std::array<double, 3> color_map(std::span<const uint32_t> stops, double t) {
  const int last = static_cast<int>(stops.size()) - 1;
  double x = std::clamp(t, 0.0, 1.0) * last;
  int i = std::min(last - 1, static_cast<int>(x));
  double f = x - i;
  std::array<double, 3> out;
  for (int c = 0; c < 3; ++c) {
    int shift = 16 - 8 * c;
    double a = (stops[i] >> shift) & 0xff, b = (stops[i + 1] >> shift) & 0xff;
    out[c] = a + (b - a) * f;
  }
  return out;
}

}  // namespace kiln::plot::detail
