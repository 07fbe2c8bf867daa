#include "serving_fixture.hpp"

#include <future>
#include <nlohmann/json.hpp>
#include <ostream>

#include "fixtures.hpp"
#include "fuzz_support.hpp"
#include "serving/model_manager.hpp"

namespace kiln::fuzz {

namespace {

struct Server {
  ScratchDir dir;
  std::ostream log{nullptr};
  std::unique_ptr<serving::ModelManager> models;
  std::unique_ptr<serving::RestApi> api;

  Server() {
    Sequential model = small_cnn();
    model.compile({.metrics = {"accuracy"}});
    model.save(dir.path() / "m" / "1");
    models = std::make_unique<serving::ModelManager>(
        std::vector<serving::ModelSource>{{.name = "m", .base_path = dir.path() / "m"}}, serving::BatchingOptions{}, 1, 5.0, log);
    models->poll();
    api = std::make_unique<serving::RestApi>(*models, serving::RestOptions{.max_instances = 64});
  }
};

}  // namespace

serving::HttpResponse answer(const serving::HttpRequest& request) {
  static Server server;
  std::promise<serving::HttpResponse> promise;
  auto future = promise.get_future();
  server.api->handle(request, [&promise](serving::HttpResponse response) { promise.set_value(std::move(response)); });
  serving::HttpResponse response = future.get();
  if (response.status < 200 || response.status > 599) std::abort();
  if (response.content_type == "application/json" && !nlohmann::json::accept(response.body)) std::abort();
  return response;
}

}  // namespace kiln::fuzz
