// A Keras model config (a .keras archive's config.json, a .h5 file's model_config attribute) of
// any generation: translated to kiln's architecture, with every unsupported item collected
// (io::keras_model_config), then built (io::model_from_config).
#include "fuzz_support.hpp"
#include "io/json_fields.hpp"
#include "io/keras.hpp"
#include "kiln/io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kiln::fuzz::refused_or_read([&] {
    const auto keras = kiln::io::parse_json(kiln::fuzz::bytes(data, size), "fuzz config.json");
    kiln::io::model_from_config(kiln::io::keras_model_config(keras, "fuzz config.json"),
                                "fuzz config.json");
  });
  return 0;
}
