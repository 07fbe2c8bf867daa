// safetensors files (io::parse_safetensors), then given to a model as load_model gives them.
#include "fixtures.hpp"
#include "fuzz_support.hpp"
#include "io/named_weights.hpp"
#include "kiln/io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kiln;
  static Sequential model = fuzz::small_cnn();
  fuzz::refused_or_read([&] {
    const auto tensors = io::parse_safetensors(fuzz::bytes(data, size), "fuzz.safetensors");
    io::assign_named_weights(model, tensors, "fuzz.safetensors");
  });
  return 0;
}
