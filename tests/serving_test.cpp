// kiln serve end to end: a Server on a free loopback port, spoken to over HTTP with libcurl, as
// a TF Serving client would. Every endpoint, both body formats, b64 PNGs, the error statuses and
// their messages, version swaps, batching and a graceful stop.
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "helpers.hpp"
#include "kiln/serving.hpp"
#include "serving/base64.hpp"
#include "serving/model_config.hpp"
#include "serving/predict_body.hpp"

namespace kiln {
namespace {

struct Reply {
  long status = 0;
  std::string body, headers;
  nlohmann::json json() const { return nlohmann::json::parse(body); }
};

size_t collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

Reply http(const std::string& method, const std::string& url, const std::string& body = "",
           const std::string& header = "") {
  CURL* curl = curl_easy_init();
  Reply r;
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  if (!header.empty()) headers = curl_slist_append(headers, header.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &r.headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
  if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return r;
}

// A (4, 4, 1) image classifier with 3 classes, saved as version `version` under base (written
// elsewhere and renamed into place, as kiln's own saves are).
Sequential save_version(const std::filesystem::path& base, int version, uint64_t seed) {
  utils::set_random_seed(seed);
  Sequential model({layers::Flatten({4, 4, 1}), layers::Dense(3, "softmax")});
  model.class_names = {"zero", "one", "two"};
  model.preprocessing.rescale = 1.0 / 255;
  model.save(base / std::to_string(version));
  return model;
}

class Serving : public ::testing::Test {
 protected:
  void start(serving::ServerOptions options = {}) {
    options.port = 0;
    options.models = {{"clf", dir_.path()}};
    options.poll_seconds = 0.05;
    options.handle_signals = false;
    options.log = &log_;
    server_ = std::make_unique<serving::Server>(options);
    url_ = "http://127.0.0.1:" + std::to_string(server_->port()) + "/v1/models/clf";
    thread_ = std::thread([this] { server_->run(); });
  }
  // The server's log, once it has stopped (access lines are written after each answer).
  std::string log_after_stop() {
    server_->stop();
    thread_.join();
    return log_.str();
  }
  void TearDown() override {
    if (server_ && thread_.joinable()) server_->stop();
    if (thread_.joinable()) thread_.join();
  }
  // Waits until the served version is `version`.
  bool wait_for_version(int version) {
    for (int i = 0; i < 200; ++i) {
      auto r = http("GET", url_ + "/metadata");
      if (r.status == 200 && r.json()["model_spec"]["version"] == std::to_string(version)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  testing::TempDir dir_;
  std::ostringstream log_;
  std::unique_ptr<serving::Server> server_;
  std::thread thread_;
  std::string url_;
};

Tensor images(int n, uint64_t seed) { return testing::random_tensor({n, 4, 4, 1}, seed, 0.0f, 1.0f); }

nlohmann::json nested(const Tensor& x) {
  auto out = nlohmann::json::array();
  for (int64_t i = 0; i < x.dim(0); ++i) {
    auto rows = nlohmann::json::array();
    for (int r = 0; r < 4; ++r) {
      auto cols = nlohmann::json::array();
      for (int c = 0; c < 4; ++c) cols.push_back({x[i * 16 + r * 4 + c]});
      rows.push_back(cols);
    }
    out.push_back(rows);
  }
  return out;
}

TEST_F(Serving, StatusMetadataAndPredictAsTfServingWritesThem) {
  Sequential model = save_version(dir_.path(), 1, 3);
  start();
  auto status = http("GET", url_);
  ASSERT_EQ(status.status, 200) << status.body;
  EXPECT_EQ(status.json()["model_version_status"][0]["version"], "1");
  EXPECT_EQ(status.json()["model_version_status"][0]["state"], "AVAILABLE");
  EXPECT_EQ(http("GET", url_ + "/versions/1").status, 200);
  auto meta = http("GET", url_ + "/versions/1/metadata").json();
  const auto& sig = meta["metadata"]["signature_def"]["signature_def"]["serving_default"];
  const std::string input = model.inputs()[0].layer()->name(), output = model.layers().back()->name();
  EXPECT_EQ(sig["inputs"][input]["tensor_shape"]["dim"].size(), 4u);  // -1, 4, 4, 1
  EXPECT_EQ(sig["outputs"][output]["dtype"], "DT_FLOAT");

  Tensor x = images(3, 7);
  Tensor want = model.predict(x);
  auto rows = http("POST", url_ + ":predict", nlohmann::json({{"signature_name", "serving_default"}, {"instances", nested(x)}}).dump());
  ASSERT_EQ(rows.status, 200) << rows.body;
  auto columns = http("POST", url_ + "/versions/1:predict", nlohmann::json({{"inputs", {{input, nested(x)}}}}).dump());
  ASSERT_EQ(columns.status, 200) << columns.body;
  for (int i = 0; i < 3; ++i)
    for (int c = 0; c < 3; ++c) {
      EXPECT_EQ(rows.json()["predictions"][i][c].get<float>(), want[i * 3 + c]);  // shortest text reads back exactly
      EXPECT_EQ(columns.json()["outputs"][i][c].get<float>(), want[i * 3 + c]);
    }
  // Instances by input name, as (4, 4) images without the channel, and integers and exponents.
  auto named = http("POST", url_ + ":predict",
                    R"({"instances": [{")" + input + R"(": [[0, 1, 0, 1], [1e-3, 0.5, 1, 0], [0, 0, 0, 0], [1, 1, 1, 1]]}]})");
  EXPECT_EQ(named.status, 200) << named.body;
  auto classify = http("POST", url_ + ":classify", nlohmann::json({{"examples", nested(x)}, {"top_k", 2}}).dump());
  ASSERT_EQ(classify.status, 200) << classify.body;
  const auto first = classify.json()["result"][0];
  ASSERT_EQ(first.size(), 2u);
  const int best = static_cast<int>(std::max_element(want.data(), want.data() + 3) - want.data());
  EXPECT_EQ(first[0][0], model.class_names[best]);
  EXPECT_EQ(first[0][1].get<float>(), want[best]);
  EXPECT_GE(first[0][1].get<float>(), first[1][1].get<float>());
}

TEST_F(Serving, Base64PngInstancesAreScaledAsTheModelSays) {
  Sequential model = save_version(dir_.path(), 1, 4);
  start();
  ByteTensor pixels({4, 4});
  for (int i = 0; i < 16; ++i) pixels[i] = static_cast<uint8_t>(i * 16);
  io::write_png_gray(dir_ / "img.png", pixels);
  std::ifstream in(dir_ / "img.png", std::ios::binary);
  const std::string png((std::istreambuf_iterator<char>(in)), {});
  std::string url_safe = serving::encode_base64(png);
  for (char& c : url_safe) c = c == '+' ? '-' : c == '/' ? '_' : c;
  auto r = http("POST", url_ + ":predict",
                nlohmann::json({{"instances", {{{"b64", serving::encode_base64(png)}}, {{"b64", url_safe}}}}}).dump());
  ASSERT_EQ(r.status, 200) << r.body;
  Tensor want = model.predict(pixels.reshape({1, 4, 4, 1}));
  for (int i = 0; i < 2; ++i)
    for (int c = 0; c < 3; ++c) EXPECT_EQ(r.json()["predictions"][i][c].get<float>(), want[c]);
  auto broken = http("POST", url_ + ":predict", R"({"instances": [{"b64": "iVBORw0KGgo="}]})");
  EXPECT_EQ(broken.status, 400);
  EXPECT_NE(broken.body.find("instances[0]"), std::string::npos) << broken.body;
}

// Any image file kiln reads, of any size and colour: converted and resized as kiln predict does.
TEST_F(Serving, Base64ImagesOfOtherSizesAndColoursAreConvertedAsPredictDoes) {
  Sequential model = save_version(dir_.path(), 1, 4);
  start();
  ByteTensor rgb({7, 9, 3});
  for (int64_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<uint8_t>((i * 37) % 256);
  for (const std::string& file : {io::encode_png(rgb), io::encode_jpeg(rgb, 90)}) {
    auto r = http("POST", url_ + ":predict",
                  nlohmann::json({{"instances", {{{"b64", serving::encode_base64(file)}}}}}).dump());
    ASSERT_EQ(r.status, 200) << r.body;
    ByteTensor pixels = io::prepare_image(file, "test", 4, 4, 1, "bilinear", false);
    Tensor want = model.predict(pixels.reshape({1, 4, 4, 1}));
    for (int c = 0; c < 3; ++c) EXPECT_EQ(r.json()["predictions"][0][c].get<float>(), want[c]);
  }
  auto text = http("POST", url_ + ":predict",
                   nlohmann::json({{"instances", {{{"b64", serving::encode_base64("GIF87a but not really")}}}}}).dump());
  EXPECT_EQ(text.status, 400);
  EXPECT_NE(text.body.find("instances[0]"), std::string::npos) << text.body;
}

TEST_F(Serving, BadRequestsGetTheirStatusAndAMessageNamingTheProblem) {
  save_version(dir_.path(), 1, 5);
  serving::ServerOptions options;
  options.max_body_bytes = 100000;
  options.max_instances = 50;
  start(options);
  auto expect = [&](const Reply& r, long status, const std::string& part) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_NE(r.body.find(part), std::string::npos) << r.body;
    EXPECT_NO_THROW(r.json());  // always {"error": ...}
  };
  const std::string row = "[[0,0,0,0],[0,0,0,0],[0,0,0,0],[0,0,0,0]]";
  expect(http("POST", url_ + ":predict", "{\"instances\": ["), 400, "not valid JSON");
  expect(http("POST", url_ + ":predict", "{\"instances\": [[[NaN]]]}"), 400, "NaN");
  expect(http("POST", url_ + ":predict", "{\"instances\": [[[1e400]]]}"), 400, "out of range");
  expect(http("POST", url_ + ":predict", "{\"instances\": [[[0,0,0,0],[0,0,0,0],[0,0,0,0],[0,0,0,1e39]]]}"), 400,
         "out of float32's range");
  expect(http("POST", url_ + ":predict", "{\"instances\": [" + row + ", [[0,0,0],[0,0,0],[0,0,0]]]}"), 400,
         "instances[1]: input");
  expect(http("POST", url_ + ":predict", "{\"instances\": [[[0,0,0,0],[0,0,0,\"x\"],[0,0,0,0],[0,0,0,0]]]}"), 400,
         "instances[0][1][3]: input");
  expect(http("POST", url_ + ":predict", "{\"instances\": [[[0,0,0,0],[0,0,0],[0,0,0,0],[0,0,0,0]]]}"), 400,
         "instances[0][1]: expected a list of 4 values");
  expect(http("POST", url_ + ":predict", "{\"instances\": [" + row + "], \"inputs\": []}"), 400, "exactly one of");
  expect(http("POST", url_ + ":predict", "{\"instances\": [" + row + "], \"signature_name\": \"other\"}"), 400,
         "serving_default");
  expect(http("POST", url_ + ":predict", "[1, 2]"), 400, "JSON object");
  std::string many = "{\"instances\": [" + row;
  for (int i = 0; i < 50; ++i) many += "," + row;
  expect(http("POST", url_ + ":predict", many + "]}"), 413, "the limit is 50");
  expect(http("POST", url_ + ":predict", std::string(200000, ' ')), 413, "over the limit");
  expect(http("POST", "http://127.0.0.1:" + std::to_string(server_->port()) + "/v1/models/nope:predict", "{}"), 404,
         "no model named 'nope'");
  expect(http("GET", url_ + "/versions/9"), 404, "no version 9");
  expect(http("POST", url_ + "/versions/9:predict", "{\"instances\": [" + row + "]}"), 404, "no version 9 loaded");
  expect(http("GET", "http://127.0.0.1:" + std::to_string(server_->port()) + "/v2/elsewhere"), 404, "no such path");
  expect(http("GET", url_ + ":predict"), 405, "takes POST");
  expect(http("POST", url_ + ":regress", "{}"), 400, ":predict and :classify");
  // The server still serves, and logged each 4xx with its reason.
  EXPECT_EQ(http("POST", url_ + ":predict", "{\"instances\": [" + row + "]}").status, 200);
  EXPECT_NE(log_after_stop().find("\"POST /v1/models/clf:predict\" 400"), std::string::npos);
}

TEST_F(Serving, NewVersionsAreSwappedInBrokenOnesRefusedRemovedOnesUnloaded) {
  save_version(dir_.path(), 1, 6);
  start();
  ASSERT_TRUE(wait_for_version(1));
  Sequential v2 = save_version(dir_.path(), 2, 7);
  ASSERT_TRUE(wait_for_version(2));
  Tensor x = images(1, 8);
  auto r = http("POST", url_ + ":predict", nlohmann::json({{"instances", nested(x)}}).dump());
  EXPECT_EQ(r.json()["predictions"][0][0].get<float>(), v2.predict(x)[0]);
  EXPECT_EQ(http("GET", url_).json()["model_version_status"][0]["version"], "2");

  std::filesystem::create_directories(dir_ / "3");
  testing::write_bytes(dir_ / "3" / "config.json", "{ not json");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(wait_for_version(2));
  auto states = http("GET", url_).json()["model_version_status"];
  EXPECT_EQ(states[0]["version"], "3");
  EXPECT_EQ(states[0]["state"], "END");
  EXPECT_NE(states[0]["status"]["error_message"].get<std::string>(), "");
  EXPECT_NE(log_.str().find("refused clf version 3"), std::string::npos);

  std::filesystem::remove_all(dir_ / "3");
  std::filesystem::remove_all(dir_ / "2");
  EXPECT_TRUE(wait_for_version(1));
  EXPECT_NE(log_.str().find("unloaded clf version 2"), std::string::npos);
}

TEST_F(Serving, ConcurrentRequestsAreBatchedAndEachGetsItsOwnAnswer) {
  Sequential model = save_version(dir_.path(), 1, 9);
  serving::ServerOptions options;
  options.batching = {.max_batch_size = 16, .batch_timeout_micros = 5000};
  start(options);
  std::vector<Tensor> xs, wants;  // computed here: a Model is not for several threads at once
  for (int t = 0; t < 8; ++t) {
    xs.push_back(images(1 + t % 3, 100 + static_cast<uint64_t>(t)));
    wants.push_back(model.predict(xs.back()));
  }
  std::vector<std::future<bool>> clients;
  for (int t = 0; t < 8; ++t)
    clients.push_back(std::async(std::launch::async, [&, t] {
      const Tensor& x = xs[static_cast<size_t>(t)];
      const Tensor& want = wants[static_cast<size_t>(t)];
      auto r = http("POST", url_ + ":predict", nlohmann::json({{"instances", nested(x)}}).dump());
      if (r.status != 200) return false;
      for (int64_t i = 0; i < want.size(); ++i)
        if (r.json()["predictions"][i / 3][i % 3].get<float>() != want[i]) return false;
      return true;
    }));
  for (auto& c : clients) EXPECT_TRUE(c.get());
}

// kiln's own endpoints for the page: the page itself, the model list, and test images of the
// model's dataset (the real Fashion-MNIST, as Debian installs it).
TEST_F(Serving, ThePageTheModelListAndDatasetSamples) {
  Sequential model = save_version(dir_.path(), 1, 14);
  start();
  const std::string root = "http://127.0.0.1:" + std::to_string(server_->port());
  auto page = http("GET", root + "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("<title>kiln serve</title>"), std::string::npos);
  auto list = http("GET", root + "/kiln/models").json();
  EXPECT_EQ(list["models"][0]["name"], "clf");
  EXPECT_EQ(list["models"][0]["version"], "1");
  EXPECT_EQ(http("GET", url_ + "/metadata").json()["metadata"]["preprocessing"]["rescale"].get<double>(), 1.0 / 255);
  auto none = http("GET", root + "/kiln/models/clf/samples");
  EXPECT_EQ(none.status, 404);
  EXPECT_NE(none.body.find("does not record the dataset"), std::string::npos) << none.body;

  model.metadata["dataset"] = "fashion-mnist";
  model.save(dir_ / "2");
  ASSERT_TRUE(wait_for_version(2));
  auto samples = http("GET", root + "/kiln/models/clf/samples?count=3&start=10");
  ASSERT_EQ(samples.status, 200) << samples.body;
  const auto images = samples.json()["images"];
  ASSERT_EQ(images.size(), 3u);
  EXPECT_EQ(images[0]["index"], 10);
  EXPECT_EQ(images[0]["pixels"].size(), 784u);
  EXPECT_EQ(http("GET", root + "/kiln/models/clf/samples?count=x").status, 400);
}

TEST_F(Serving, CorsLetsAPageOnAnotherOriginCallTheApi) {
  save_version(dir_.path(), 1, 16);
  serving::ServerOptions options;
  options.cors_allow_origin = "https://example.org";
  start(options);
  auto r = http("GET", url_);
  EXPECT_NE(r.headers.find("Access-Control-Allow-Origin: https://example.org"), std::string::npos) << r.headers;
  auto preflight = http("OPTIONS", url_ + ":predict", "", "Origin: https://example.org");
  EXPECT_EQ(preflight.status, 204);
  EXPECT_NE(preflight.headers.find("Access-Control-Allow-Methods: GET, POST, OPTIONS"), std::string::npos) << preflight.headers;
  EXPECT_NE(preflight.headers.find("Access-Control-Allow-Headers: Content-Type, Authorization"), std::string::npos);
}

// Before any version folder loads, the model answers 503 with the reason; then it serves.
TEST_F(Serving, NoVersionYetIs503UntilOneArrives) {
  start();
  auto r = http("POST", url_ + ":predict", "{\"instances\": [[[0,0,0,0],[0,0,0,0],[0,0,0,0],[0,0,0,0]]]}");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("no version loaded"), std::string::npos) << r.body;
  EXPECT_EQ(http("GET", url_ + "/metadata").status, 503);
  save_version(dir_.path(), 4, 18);
  EXPECT_TRUE(wait_for_version(4));
}

// A request that waits for its batch past the timeout is answered 504 and not run.
TEST_F(Serving, ARequestWaitingPastTheTimeoutGets504) {
  save_version(dir_.path(), 1, 17);
  serving::ServerOptions options;
  options.batching = {.max_batch_size = 64, .batch_timeout_micros = 600000};
  options.timeout_seconds = 0.2;
  start(options);
  auto r = http("POST", url_ + ":predict", "{\"instances\": [[[0,0,0,0],[0,0,0,0],[0,0,0,0],[0,0,0,0]]]}");
  EXPECT_EQ(r.status, 504);
  EXPECT_NE(r.body.find("over the timeout"), std::string::npos) << r.body;
}

TEST_F(Serving, AHundredMegabyteBodyIsRefusedBeforeItIsRead) {
  save_version(dir_.path(), 1, 15);
  start();
  auto r = http("POST", url_ + ":predict", std::string(100'000'000, ' '));
  EXPECT_EQ(r.status, 413);
  EXPECT_NE(r.body.find("over the limit of 33554432 bytes"), std::string::npos) << r.body;
  EXPECT_EQ(http("POST", url_ + ":predict", "{\"instances\": [[[0,0,0,0],[0,0,0,0],[0,0,0,0],[0,0,0,0]]]}").status, 200);
  const std::string log = log_after_stop();
  EXPECT_NE(log.find("\"POST /v1/models/clf:predict\" 413"), std::string::npos) << log;
}

// stop() (what SIGTERM does) lets a request in flight finish: here one waiting 300 ms for a batch.
TEST_F(Serving, StoppingFinishesTheRequestInFlight) {
  save_version(dir_.path(), 1, 13);
  serving::ServerOptions options;
  options.batching = {.max_batch_size = 64, .batch_timeout_micros = 300000};
  start(options);
  auto pending = std::async(std::launch::async, [&] {
    return http("POST", url_ + ":predict", "{\"instances\": [[[0,0,0,0],[0,0,0,0],[0,0,0,0],[0,0,0,0]]]}");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  server_->stop();
  thread_.join();  // run() returns only after the answer went out
  const Reply r = pending.get();
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("predictions"), std::string::npos);
  EXPECT_EQ(http("GET", url_).status, 0);  // no longer listening
  server_.reset();
}

TEST_F(Serving, AuthTokenGuardsEveryEndpointButTheHealthCheck) {
  save_version(dir_.path(), 1, 10);
  serving::ServerOptions options;
  options.auth_token = "s3cret";
  start(options);
  EXPECT_EQ(http("GET", url_).status, 401);
  EXPECT_EQ(http("GET", url_, "", "Authorization: Bearer wrong").status, 401);
  EXPECT_EQ(http("GET", url_, "", "Authorization: Bearer s3cret").status, 200);
  EXPECT_EQ(http("GET", "http://127.0.0.1:" + std::to_string(server_->port()) + "/healthz").status, 200);
}

// The value of the Prometheus sample `series` (name and labels as written), -1 when absent.
double sample(const std::string& text, const std::string& series) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    if (line.starts_with(series + " ")) return std::stod(line.substr(series.size() + 1));
  return -1;
}

TEST_F(Serving, MetricsCountRequestsByModelVersionAndStatusInPrometheusFormat) {
  save_version(dir_.path(), 1, 12);
  serving::ServerOptions options;
  options.batching = {.max_batch_size = 8, .batch_timeout_micros = 100};
  start(options);
  const std::string row = "[[0,0,0,0],[0,0,0,0],[0,0,0,0],[0,0,0,0]]";
  for (int i = 0; i < 3; ++i) ASSERT_EQ(http("POST", url_ + ":predict", "{\"instances\": [" + row + "," + row + "]}").status, 200);
  EXPECT_EQ(http("POST", url_ + ":predict", "{\"instances\": [1]}").status, 400);
  const std::string root = "http://127.0.0.1:" + std::to_string(server_->port());
  EXPECT_EQ(http("GET", root + "/v1/models/made-up-name:predict").status, 404);
  EXPECT_EQ(http("GET", url_ + "/versions/12345").status, 404);
  auto r = http("GET", root + "/monitoring/prometheus/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(sample(r.body, R"(kiln_requests_total{model="clf",version="1",api="predict",code="200"})"), 3);
  EXPECT_EQ(sample(r.body, R"(kiln_requests_total{model="clf",version="1",api="predict",code="400"})"), 1);
  EXPECT_EQ(sample(r.body, R"(kiln_request_latency_seconds_count{model="clf",api="predict"})"), 4);
  EXPECT_EQ(sample(r.body, R"(kiln_request_latency_seconds_bucket{model="clf",api="predict",le="+Inf"})"), 4);
  EXPECT_GT(sample(r.body, R"(kiln_request_latency_seconds_sum{model="clf",api="predict"})"), 0);
  EXPECT_EQ(sample(r.body, R"(kiln_batch_size_bucket{model="clf",version="1",le="1"})"), 0);
  EXPECT_EQ(sample(r.body, R"(kiln_batch_size_bucket{model="clf",version="1",le="2"})"), 3);
  EXPECT_EQ(sample(r.body, R"(kiln_batch_size_sum{model="clf",version="1"})"), 6);
  EXPECT_EQ(sample(r.body, R"(kiln_queue_length{model="clf",version="1"})"), 0);
  EXPECT_NE(r.body.find("# TYPE kiln_request_latency_seconds histogram"), std::string::npos);
  // Names that do not exist are not labels: made-up paths cannot grow the metrics.
  EXPECT_EQ(r.body.find("made-up-name"), std::string::npos);
  EXPECT_EQ(r.body.find("12345"), std::string::npos);
  EXPECT_EQ(sample(r.body, R"(kiln_requests_total{model="",version="",api="other",code="404"})"), 1);
}

// A raw TCP connection, for clients curl will not imitate.
struct RawClient {
  int fd = -1;
  explicit RawClient(int port) {
    fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) fd = -1;
  }
  ~RawClient() {
    if (fd >= 0) close(fd);
  }
  bool send_text(const std::string& text) { return ::send(fd, text.data(), text.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(text.size()); }
  // What the server sends until it closes the connection (or `seconds` pass).
  std::string read_all(double seconds) {
    std::string out;
    char buf[4096];
    pollfd p{fd, POLLIN, 0};
    while (poll(&p, 1, static_cast<int>(seconds * 1000)) > 0) {
      ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
};

TEST_F(Serving, SlowIdleAndEndlessClientsAreCutOffAndOthersStillServed) {
  save_version(dir_.path(), 1, 11);
  serving::ServerOptions options;
  options.timeout_seconds = 0.3;
  options.max_body_bytes = 4096;
  start(options);
  const int port = server_->port();
  std::vector<std::unique_ptr<RawClient>> idle;
  for (int i = 0; i < 500; ++i) idle.push_back(std::make_unique<RawClient>(port));
  RawClient slow(port);
  ASSERT_TRUE(slow.send_text("POST /v1/models/clf:predict HTTP/1.1\r\nHost: x\r\nContent-Le"));
  EXPECT_EQ(http("GET", url_).status, 200);  // while 501 connections hang
  const auto t0 = std::chrono::steady_clock::now();
  slow.read_all(5);  // returns when the server closes it
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(waited, 2.0);

  RawClient endless(port);
  ASSERT_TRUE(endless.send_text("POST /v1/models/clf:predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
  const std::string chunk = "400\r\n" + std::string(1024, ' ') + "\r\n";
  for (int i = 0; i < 8 && endless.send_text(chunk); ++i) {
  }
  EXPECT_NE(endless.read_all(2).find("413"), std::string::npos);

  RawClient garbage(port);
  ASSERT_TRUE(garbage.send_text("HELLO THERE\r\n\r\n"));
  EXPECT_NE(garbage.read_all(2).find("400"), std::string::npos);
  EXPECT_EQ(http("GET", url_).status, 200);
}

TEST(ServingConfig, TfServingsTextFormatAndItsJsonEquivalent) {
  const auto models = serving::parse_model_config(R"(
    # two models
    model_config_list {
      config { name: 'fashion' base_path: "/models/fashion" model_platform: 'tensorflow' }
      config {
        name: "digits", base_path: '/models/digits'
        model_version_policy { specific { versions: 1 versions: 3 } }
      }
      config { name: 'both' base_path: '/m/both' model_version_policy: { latest { num_versions: 2 } } }
      config { name: 'every' base_path: '/m/every' model_version_policy { all {} } }
    })", "models.config");
  ASSERT_EQ(models.size(), 4u);
  EXPECT_EQ(models[0].name, "fashion");
  EXPECT_EQ(models[0].base_path, "/models/fashion");
  EXPECT_EQ(models[0].version_policy, "latest");
  EXPECT_EQ(models[1].version_policy, "specific");
  EXPECT_EQ(models[1].versions, (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(models[2].num_versions, 2);
  EXPECT_EQ(models[3].version_policy, "all");
  const auto json = serving::parse_model_config(
      R"({"model_config_list": {"config": [{"name": "fashion", "base_path": "/m",
          "model_version_policy": {"specific": {"versions": ["2"]}}}]}})", "models.json");
  ASSERT_EQ(json.size(), 1u);
  EXPECT_EQ(json[0].versions, (std::vector<int64_t>{2}));

  auto error = [](const std::string& text) {
    try {
      serving::parse_model_config(text, "bad.config");
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error("model_config_list { config { name: 'a' base_path: '/a' }"),
            "bad.config:1: expected '}' to close a message, found the end of the file");
  EXPECT_EQ(error("model_config_list {\n config { name 'a' } }"), "bad.config:2: expected ':' or '{' after 'name', found ''a' } }'");
  EXPECT_NE(error("model_config_list { config { base_path: '/a' } }").find("expected one string 'name'"), std::string::npos);
  EXPECT_NE(error("model_config_list { config { name: 'a' base_path: '/a' model_version_policy { newest {} } } }")
                .find("unknown model_version_policy 'newest'"),
            std::string::npos);
  EXPECT_NE(error("model_config_list { config { name: 'a' base_path: '/a' model_platform: 'onnx' } }").find("not served by kiln"),
            std::string::npos);
  EXPECT_NE(error("model_config_list { config { name: 'a' base_path: '/a' model_version_policy { specific { versions: x1 } } } }")
                .find("expected an integer"),
            std::string::npos);
  EXPECT_NE(error("{\"model_config_list\": ").find("not valid JSON"), std::string::npos);
  EXPECT_NE(error("").find("expected one model_config_list"), std::string::npos);
}

TEST(ServingCodec, FloatsAreWrittenInTheShortestFormThatReadsBack) {
  for (float v : {0.1f, 1e-7f, 9e-07f, 3.4028235e38f, 1.0f, 0.0f, -2.5f, 1.17549435e-38f}) {
    std::string text;
    serving::append_float(text, v);
    EXPECT_EQ(std::stof(text), v) << text;
    EXPECT_EQ(text.find(".0e"), std::string::npos) << text;
  }
  std::string nan;
  serving::append_float(nan, std::nanf(""));
  EXPECT_EQ(nan, "null");
}

TEST(ServingCodec, Base64TakesBothAlphabetsAndRefusesOtherText) {
  EXPECT_EQ(serving::decode_base64("+/+/"), "\xfb\xff\xbf");
  EXPECT_EQ(serving::decode_base64("-_-_"), "\xfb\xff\xbf");
  EXPECT_EQ(serving::decode_base64("aGk"), "hi");
  EXPECT_EQ(serving::decode_base64("aGk="), "hi");
  EXPECT_FALSE(serving::decode_base64("a"));
  EXPECT_FALSE(serving::decode_base64("aG k"));
  for (std::string s : {std::string(), std::string("a"), std::string("ab"), std::string("abc"), std::string("\0\xff\x10", 3)})
    EXPECT_EQ(serving::decode_base64(serving::encode_base64(s)), s);
}

}  // namespace
}  // namespace kiln
