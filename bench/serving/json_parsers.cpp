// The JSON parsers a predict body could go through, side by side: one Fashion-MNIST image as TF
// Serving's row format ({"instances": [28 x 28 numbers]}, numbers as Python's json writes
// pixel / 255), parsed into 784 floats. Prints one line per parser: microseconds per body, min
// and median over rounds. Usage: bench_json_parsers [rounds] [bodies per round]
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kiln/datasets/fashion_mnist.hpp"
#include "serving/predict_body.hpp"

namespace {

std::string body_of_first_test_image() {
  const auto [train, test] = kiln::datasets::fashion_mnist::load_data();
  std::string body = "{\"instances\": [[";
  for (int r = 0; r < 28; ++r) {
    body += r ? ", [" : "[";
    for (int c = 0; c < 28; ++c) {
      char buf[32];  // the shortest text that reads back, as Python's json writes a float
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, test.images[r * 28 + c] / 255.0);
      std::string v(buf, end);
      if (v.find_first_of(".e") == std::string::npos) v += ".0";
      body += (c ? ", " : "") + v;
    }
    body += "]";
  }
  return body + "]]}";
}

// nlohmann::json: parse the DOM, then walk it.
void with_nlohmann(const std::string& body, float* out) {
  const auto doc = nlohmann::json::parse(body);
  int i = 0;
  for (const auto& row : doc["instances"][0])
    for (const auto& v : row) out[i++] = v.get<float>();
}

// simdjson's DOM, walked the same way.
void with_simdjson_dom(const std::string& body, float* out) {
  static simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(body.data(), body.size()).value();
  int i = 0;
  for (simdjson::dom::element row : doc["instances"].at(0).get_array())
    for (simdjson::dom::element v : row.get_array()) out[i++] = static_cast<float>(v.get_double().value());
}

// simdjson On-Demand: numbers parsed as the walk reaches them, no DOM.
void with_simdjson_ondemand(const simdjson::padded_string& body, float* out) {
  static simdjson::ondemand::parser parser;
  auto doc = parser.iterate(body);
  int i = 0;
  for (auto image : doc["instances"].get_array())
    for (auto row : image.get_array())
      for (double v : row.get_array()) out[i++] = static_cast<float>(v);
}

// kiln serve's reader (simdjson's DOM with shape checks and error paths).
void with_kiln(const std::string& body, const kiln::serving::Signature& sig) {
  auto parsed = kiln::serving::parse_request_body(body, sig, kiln::serving::Api::kPredict, 1);
  if (parsed.rows != 1) std::abort();
}

template <typename Fn>
void measure(const char* name, int rounds, int n, Fn&& fn) {
  std::vector<double> us;
  for (int r = 0; r < rounds; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) fn();
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / n);
  }
  std::sort(us.begin(), us.end());
  std::printf("{\"parser\": \"%s\", \"us_per_body_min\": %.2f, \"us_per_body_median\": %.2f}\n", name, us.front(),
              us[us.size() / 2]);
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 7;
  const int n = argc > 2 ? std::atoi(argv[2]) : 2000;
  const std::string body = body_of_first_test_image();
  const simdjson::padded_string padded(body);
  const kiln::serving::Signature sig{.inputs = {{"flatten_input", {28, 28}}}, .outputs = {{"dense_2", {10}}}};
  std::vector<float> a(784), b(784), c(784);
  with_nlohmann(body, a.data());
  with_simdjson_dom(body, b.data());
  with_simdjson_ondemand(padded, c.data());
  if (a != b || a != c) {
    std::fprintf(stderr, "the parsers disagree\n");
    return 1;
  }
  std::printf("{\"body_bytes\": %zu}\n", body.size());
  measure("nlohmann-json", rounds, n, [&] { with_nlohmann(body, a.data()); });
  measure("simdjson DOM", rounds, n, [&] { with_simdjson_dom(body, b.data()); });
  measure("simdjson On-Demand", rounds, n, [&] { with_simdjson_ondemand(padded, c.data()); });
  measure("kiln serve's reader (simdjson DOM + checks)", rounds, n, [&] { with_kiln(body, sig); });
}
