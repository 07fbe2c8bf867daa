#include "fixtures.hpp"

#include "kiln/layers/conv.hpp"
#include "kiln/layers/core.hpp"
#include "kiln/layers/normalization.hpp"

namespace kiln::fuzz {

Sequential small_cnn() {
  return Sequential({layers::Conv2D({.filters = 2, .kernel_size = 3, .activation = "relu", .input_shape = {5, 5, 1}}),
                     layers::BatchNormalization(), layers::Flatten(), layers::Dense(3, "softmax")},
                    "small_cnn");
}

data::Dataset cached_samples(const std::filesystem::path& file) {
  ByteTensor x({3, 2, 2, 1});
  for (int64_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<uint8_t>(i * 20);
  return data::Dataset::from_tensor_slices(x, std::vector<int32_t>{0, 1, 2}).cache(file);
}

}  // namespace kiln::fuzz
