// The HTTP layer kiln serve did not choose, for the comparison in docs/serving.md: the same
// ModelManager and RestApi behind cpp-httplib (a blocking thread per connection, from a pool).
// Its best configuration here: a pool of 128 threads, so that 64 keep-alive connections each
// hold one; TCP_NODELAY; batching on, so that all of them share one model. Usage:
// bench_httplib_server MODEL_DIR PORT
#include <httplib.h>

#include <future>

#include "serving/rest_api.hpp"

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  using namespace kiln::serving;
  ModelManager models({{.name = "m", .base_path = argv[1]}}, {.max_batch_size = 64, .batch_timeout_micros = 1000}, 1,
                      30.0, std::cerr);
  models.poll();
  RestApi api(models, {});
  httplib::Server server;
  server.new_task_queue = [] { return new httplib::ThreadPool(128); };
  server.set_tcp_nodelay(true);  // its header and body go out as two writes: without this, each waits for a delayed ACK
  auto handle = [&](const httplib::Request& req, httplib::Response& res) {
    std::promise<HttpResponse> answer;
    api.handle({req.method, req.target, req.body, req.get_header_value("Authorization")},
               [&answer](HttpResponse r) { answer.set_value(std::move(r)); });
    HttpResponse r = answer.get_future().get();
    res.status = r.status;
    res.set_content(r.body, r.content_type.c_str());
  };
  server.Get(".*", handle);
  server.Post(".*", handle);
  server.listen("127.0.0.1", std::atoi(argv[2]));
}
