// Activation memory the planner gives a model, against keeping every tensor alive (what kiln's
// planner did before it planned by liveness): the seed MLP and a residual MLP of 20 Dense layers,
// for inference at batch 1000 and a training step at batch 32. Prints a Markdown table.
#include <cstdio>

#include "common.hpp"

namespace {

using namespace kiln;
using layers::Add, layers::Dense, layers::Flatten;

// One Dense into 256, nine blocks x + Dense(Dense(x)), one Dense out: 20 Dense layers.
Model residual_mlp() {
  auto inputs = Input({28, 28});
  auto x = Dense(256, "relu")(Flatten()(inputs));
  for (int i = 0; i < 9; ++i) x = Add()({x, Dense(256, "relu")(Dense(256, "relu")(x))});
  return Model(inputs, Dense(10, "softmax")(x), "residual_mlp_20");
}

void row(const char* name, const Model& model, int64_t batch, bool training) {
  double planned = model.planned_bytes(batch, training) / 1e6, all = model.unplanned_bytes(batch, training) / 1e6;
  std::printf("| %s | %s, batch %lld | %.2f MB | %.2f MB | %.1fx |\n", name, training ? "training step" : "inference",
              static_cast<long long>(batch), planned, all, all / planned);
}

}  // namespace

int main() {
  Sequential seed = bench::seed_model();
  Model residual = residual_mlp();
  std::printf("| model | pass | planned by liveness | every tensor kept | saved |\n|---|---|---|---|---|\n");
  for (bool training : {false, true}) {
    row("seed MLP", seed, training ? 32 : 1000, training);
    row("residual MLP, 20 Dense", residual, training ? 32 : 1000, training);
  }
}
