#include "layers/window_state.hpp"

#include <algorithm>
#include <cctype>

namespace kiln::layers::impl {

bool parse_padding(const std::string& padding, const std::string& layer) {
  std::string p = padding;
  std::transform(p.begin(), p.end(), p.begin(), [](unsigned char c) { return std::tolower(c); });
  if (p != "valid" && p != "same")
    throw ValueError(layer + ": padding must be \"valid\" or \"same\", received \"" + padding + "\"");
  return p == "same";
}

void check_size(const Size2& s, const char* argument, const std::string& layer, int64_t least) {
  if (s.h < least || s.w < least)
    throw ValueError(layer + ": " + argument + " must be at least " + std::to_string(least) + ", received (" +
                     std::to_string(s.h) + ", " + std::to_string(s.w) + ")");
}

cpu::Window window_for(const Shape& input, Size2 size, Size2 strides, Size2 dilation, bool same,
                       const std::string& layer) {
  cpu::Window w =
      cpu::make_window(input[0], input[1], input[2], size.h, size.w, strides.h, strides.w, dilation.h, dilation.w, same);
  if (w.OH <= 0 || w.OW <= 0)
    throw ShapeError(layer + ": the window (" + std::to_string(dilation.h * (size.h - 1) + 1) + ", " +
                     std::to_string(dilation.w * (size.w - 1) + 1) + ") is larger than the input " +
                     shape_str(input) + " with padding \"valid\"");
  return w;
}

}  // namespace kiln::layers::impl
