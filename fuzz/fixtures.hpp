// The fixed things some harnesses read their input against, shared with make_seeds (which
// writes the seed corpus's kiln-made files from them, so that seeds and harnesses agree).
#pragma once

#include <filesystem>

#include "kiln/data/dataset.hpp"
#include "kiln/model.hpp"

namespace kiln::fuzz {

// A small CNN with batch normalization (5x5x1 in, 3 classes): weights to load into, a model to serve.
Sequential small_cnn();
// Three 2x2 grey images and their labels, cached in `file`: the data a cache file must hold.
data::Dataset cached_samples(const std::filesystem::path& file);

}  // namespace kiln::fuzz
