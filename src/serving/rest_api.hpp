// TF Serving's REST API over a ModelManager, apart from any socket: a request (method, path,
// body) in, a response (status, JSON body) out, handed to `done` once, at once or from the model's
// thread after a prediction. Errors are {"error": "..."} with TF Serving's status for the case.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "serving/metrics.hpp"
#include "serving/model_manager.hpp"

namespace kiln::serving {

struct HttpRequest {
  std::string_view method, target, body, authorization;
};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
};

struct RestOptions {
  int64_t max_instances = 10000;
  std::string auth_token;  // when set, "Authorization: Bearer <token>" is required (not on /healthz)
};

class RestApi {
 public:
  RestApi(ModelManager& models, RestOptions options) : models_(models), options_(std::move(options)) {}
  // Every answer is counted in the metrics (model, version, API, status, time to answer).
  void handle(const HttpRequest& request, std::function<void(HttpResponse)> done) const;

 private:
  // What a request reached, for the metrics.
  struct Labels {
    std::string model, version, api = "other";
  };
  using Respond = std::function<void(HttpResponse)>;
  void route(const HttpRequest& request, Labels& labels, const Respond& respond) const;
  void model_request(const HttpRequest& request, std::string_view rest, Labels& labels, const Respond& respond) const;

  ModelManager& models_;
  RestOptions options_;
  mutable Metrics metrics_;
};

HttpResponse error_response(int status, const std::string& message);

}  // namespace kiln::serving
