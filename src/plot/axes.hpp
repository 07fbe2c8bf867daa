// Axis arithmetic the plots share: matplotlib-style tick positions and their labels, and the
// tab10 colour cycle.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "plot/canvas.hpp"

namespace kiln::plot::detail {

// About `target` evenly spaced round values (steps of 1, 2, 2.5 or 5 times a power of ten)
// covering [lo, hi]; only those inside it are returned. integer: steps of at least 1.
std::vector<double> nice_ticks(double lo, double hi, int target, bool integer = false);
// The ticks as text, all with the same number of decimals, as few as tell them apart.
std::vector<std::string> tick_labels(const std::vector<double>& ticks);

// matplotlib's default colour cycle (tab10).
Color cycle_color(size_t i);
// The colour at t in [0, 1] along a colour map given by evenly spaced stops (0xRRGGBB),
// interpolated linearly, as red, green and blue in [0, 255].
std::array<double, 3> color_map(std::span<const uint32_t> stops, double t);

}  // namespace kiln::plot::detail
