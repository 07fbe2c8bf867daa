// Request bodies of the TF Serving REST API (predict's row and columnar formats, {"b64": ...}
// images, classify and regress), posted to the endpoint the first byte picks.
#include "fuzz_support.hpp"
#include "serving_fixture.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const char* const kTargets[] = {"/v1/models/m:predict", "/v1/models/m/versions/1:predict",
                                         "/v1/models/m:classify", "/v1/models/m:regress"};
  const std::string body = kiln::fuzz::bytes(data + 1, size - 1);
  kiln::fuzz::answer({.method = "POST", .target = kTargets[data[0] & 3], .body = body});
  return 0;
}
