// FusedStep: the one thing an optimizer and a layer agree on. An optimizer whose step is
// w += alpha * gradient, with no state, offers it; a layer that can apply it as it produces each
// weight gradient takes it, and the gradient is never stored.
#pragma once

namespace kiln {

struct FusedStep {
  float alpha = 0.0f;  // plain SGD: -learning_rate
};

}  // namespace kiln
