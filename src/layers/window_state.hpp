// The geometry a Conv2D or pooling layer keeps once built, and the checks of its options that
// every windowed layer shares.
#pragma once

#include <string>

#include "kernels/cpu/window.hpp"
#include "kiln/layers/conv.hpp"

namespace kiln::layers::impl {

struct WindowState {
  cpu::Window window;
};

// "valid" or "same" (any case, as Keras lowercases it): whether it is "same". Throws ValueError
// naming the layer otherwise.
bool parse_padding(const std::string& padding, const std::string& layer);
// Throws ValueError naming the layer and the argument unless both sizes are at least `least`.
void check_size(const Size2& s, const char* argument, const std::string& layer, int64_t least = 1);
// The window over a per-sample image (H, W, C: the layer checked it with require_image);
// ShapeError naming the layer when the window does not fit it.
cpu::Window window_for(const Shape& input, Size2 size, Size2 strides, Size2 dilation, bool same,
                       const std::string& layer);

inline nlohmann::json to_json(const Size2& s) { return {s.h, s.w}; }

}  // namespace kiln::layers::impl
