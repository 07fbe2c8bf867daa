// Test images of the dataset a served model was trained on, for the page at / to show beside
// their predictions: {"dataset": "fashion-mnist", "images": [{"index": 0, "label": "Ankle boot",
// "pixels": [784 values 0-255]}, ...]}. Datasets are loaded once and kept.
#pragma once

#include <cstdint>
#include <string>

#include "serving/signature.hpp"

namespace kiln::serving {

// `count` test images, evenly spaced from `start`; RequestError(404) when the model records no
// dataset or it cannot be loaded here.
std::string dataset_samples(const Signature& signature, int64_t start, int64_t count);

}  // namespace kiln::serving
