// kiln serve's --model_config_file: TF Serving's model_config_list in protobuf text format or JSON.
#include "fuzz_support.hpp"
#include "serving/model_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kiln::fuzz::refused_or_read([&] { kiln::serving::parse_model_config(kiln::fuzz::bytes(data, size), "models.config"); });
  return 0;
}
