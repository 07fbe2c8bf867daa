#include "serving/rest_api.hpp"

#include <charconv>
#include <chrono>

#include "io/json_fields.hpp"
#include "serving/page.hpp"
#include "serving/samples.hpp"

namespace kiln::serving {

namespace {

constexpr std::string_view kModels = "/v1/models/";

// The integer query parameter `key` of a target ("...?count=8&start=3"), or `fallback`.
int64_t query_int(std::string_view target, std::string_view key, int64_t fallback) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return fallback;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.size() > key.size() && pair.starts_with(key) && pair[key.size()] == '=') {
      int64_t v = 0;
      const auto value = pair.substr(key.size() + 1);
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (ec != std::errc() || end != value.data() + value.size())
        throw RequestError(400, "query parameter " + std::string(key) + " must be an integer, received '" + std::string(value) + "'");
      return v;
    }
  }
  return fallback;
}

int64_t parse_version(std::string_view text) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 0)
    throw RequestError(404, "'" + std::string(text) + "' is not a version number");
  return v;
}

nlohmann::json tensor_info(const TensorSpec& spec, const std::string& prefix) {
  auto dims = nlohmann::json::array({{{"size", "-1"}, {"name", ""}}});
  for (int64_t d : spec.shape) dims.push_back({{"size", std::to_string(d)}, {"name", ""}});
  return {{"dtype", "DT_FLOAT"},
          {"tensor_shape", {{"dim", dims}, {"unknown_rank", false}}},
          {"name", prefix + spec.name + ":0"}};
}

// TF Serving's GetModelMetadata answer for the signature "serving_default".
nlohmann::json metadata(const std::string& name, const Servable& s) {
  nlohmann::json inputs = nlohmann::json::object(), outputs = nlohmann::json::object();
  for (const auto& in : s.signature().inputs) inputs[in.name] = tensor_info(in, "serving_default_");
  for (const auto& out : s.signature().outputs) outputs[out.name] = tensor_info(out, "");
  return {{"model_spec", {{"name", name}, {"signature_name", ""}, {"version", std::to_string(s.version())}}},
          {"metadata",
           {{"signature_def",
             {{"signature_def",
               {{"serving_default", {{"inputs", inputs}, {"outputs", outputs}, {"method_name", "tensorflow/serving/predict"}}}}}}},
            {"class_names", s.signature().class_names},
            {"preprocessing", {{"rescale", s.signature().preprocessing.rescale},
                                   {"interpolation", s.signature().preprocessing.interpolation},
                                   {"crop_to_aspect_ratio", s.signature().preprocessing.crop_to_aspect_ratio}}}}}};
}

}  // namespace

HttpResponse error_response(int status, const std::string& message) {
  return {status, io::shown({{"error", message}})};
}

void RestApi::handle(const HttpRequest& request, std::function<void(HttpResponse)> done) const {
  auto labels = std::make_shared<Labels>();
  const auto start = std::chrono::steady_clock::now();
  const Respond respond = [this, done = std::move(done), labels, start](HttpResponse response) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    metrics_.record(labels->model, labels->version, labels->api, response.status, seconds);
    done(std::move(response));
  };
  try {
    route(request, *labels, respond);
  } catch (const RequestError& e) {
    respond(error_response(e.status, e.what()));
  } catch (const std::exception& e) {
    respond(error_response(500, e.what()));
  }
}

void RestApi::route(const HttpRequest& request, Labels& labels, const Respond& respond) const {
  std::string_view path = request.target.substr(0, request.target.find('?'));
  if (path == "/healthz") {
    labels.api = "healthz";
    respond({200, R"({"status":"ok"})"});
    return;
  }
  if (path == "/" || path == "/index.html") {  // static: with a token set, its API calls get 401, which it shows
    labels.api = "page";
    respond({200, kPage, "text/html; charset=utf-8"});
    return;
  }
  if (!options_.auth_token.empty() && request.authorization != "Bearer " + options_.auth_token)
    throw RequestError(401, request.authorization.empty() ? "this server requires an \"Authorization: Bearer <token>\" header"
                                                          : "the bearer token is not this server's");
  if (path == "/monitoring/prometheus/metrics") {
    labels.api = "metrics";
    std::string text;
    metrics_.write(text);
    models_.write_metrics(text);
    respond({200, std::move(text), "text/plain; version=0.0.4"});
    return;
  }
  if (path.starts_with(kModels)) {
    model_request(request, path.substr(kModels.size()), labels, respond);
    return;
  }
  if (path == "/kiln/models") {  // kiln's own: the models and their newest loaded versions, for the page
    labels.api = "list";
    auto list = nlohmann::json::array();
    for (const auto& name : models_.names()) {
      nlohmann::json entry = {{"name", name}};
      try {
        entry["version"] = std::to_string(models_.find(name, std::nullopt)->version());
      } catch (const RequestError&) {
        entry["version"] = nullptr;
      }
      list.push_back(entry);
    }
    respond({200, io::shown({{"models", list}})});
    return;
  }
  if (path.starts_with("/kiln/models/") && path.ends_with("/samples")) {
    labels.api = "samples";
    std::string_view name = path.substr(13, path.size() - 13 - 8);
    auto servable = models_.find(std::string(name), std::nullopt);
    labels.model = std::string(name);
    respond({200, dataset_samples(servable->signature(), query_int(request.target, "start", 0),
                                  query_int(request.target, "count", 8))});
    return;
  }
  throw RequestError(404, "no such path: " + std::string(request.method) + " " + std::string(path) +
                              "; the API is under /v1/models/NAME");
}

// rest: "NAME", "NAME/metadata", "NAME/versions/N[/metadata]", "NAME[/versions/N]:predict|:classify".
void RestApi::model_request(const HttpRequest& request, std::string_view rest, Labels& labels,
                            const Respond& respond) const {
  std::string_view verb;
  if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    verb = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
  }
  bool want_metadata = false;
  if (rest.ends_with("/metadata")) {
    want_metadata = true;
    rest.remove_suffix(std::string_view("/metadata").size());
  }
  std::optional<int64_t> version;
  if (auto v = rest.find("/versions/"); v != std::string_view::npos) {
    version = parse_version(rest.substr(v + std::string_view("/versions/").size()));
    rest = rest.substr(0, v);
  }
  if (auto label = rest.find("/labels/"); label != std::string_view::npos)
    throw RequestError(404, "version labels are not supported; use /versions/N");
  const std::string name(rest);
  if (name.empty() || name.find('/') != std::string::npos)
    throw RequestError(404, "no such path: " + std::string(request.target));
  // Labels name only what exists, so that requests for made-up names cannot grow the metrics.
  models_.require(name);
  labels.model = name;
  if (verb.empty()) {
    labels.api = want_metadata ? "metadata" : "status";
    if (request.method != "GET")
      throw RequestError(405, std::string(request.method) + " is not allowed here; GET the status or metadata, POST to :predict or :classify");
    const std::string body =
        want_metadata ? io::shown(metadata(name, *models_.find(name, version))) : io::shown(models_.status(name, version));
    if (version) labels.version = std::to_string(*version);
    respond({200, body});
    return;
  }
  if (want_metadata) throw RequestError(404, "no such path: " + std::string(request.target));
  if (verb != "predict" && verb != "classify")
    throw RequestError(verb == "regress" ? 400 : 404, "unknown method ':" + std::string(verb) + "'; kiln serves :predict and :classify");
  if (request.method != "POST") throw RequestError(405, ":" + std::string(verb) + " takes POST, received " + std::string(request.method));
  labels.api = std::string(verb);
  auto servable = models_.find(name, version);
  labels.version = std::to_string(servable->version());
  const Api api = verb == "predict" ? Api::kPredict : Api::kClassify;
  RequestBody body = parse_request_body(request.body, servable->signature(), api, options_.max_instances);
  if (api == Api::kClassify && servable->signature().outputs.size() != 1)
    throw RequestError(400, ":classify needs a model with one output of class scores; this one has " +
                                std::to_string(servable->signature().outputs.size()));
  const bool columnar = body.columnar;
  const int64_t top_k = body.top_k;
  // The answer holds the signature, not the servable: a servable must not outlive its last
  // request on its own thread.
  auto sig = servable->shared_signature();
  servable->submit(std::move(body), [respond, sig, api, columnar, top_k](std::vector<Tensor> outputs, int status,
                                                                         const std::string& error) {
    if (status != 200) {
      respond(error_response(status, error));
      return;
    }
    respond({200, api == Api::kPredict ? write_predict_response(outputs, *sig, columnar)
                                    : write_classify_response(outputs[0], *sig, top_k)});
  });
}

}  // namespace kiln::serving
