// kiln serve as a library: TensorFlow Serving's REST API for kiln model folders, on an
// asynchronous HTTP server (Boost.Beast), with versions loaded, swapped and unloaded as their
// folders come and go, and optional dynamic batching. docs/serving.md has the endpoints.
#pragma once

#include <cstdint>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "kiln/build_info.hpp"

namespace kiln::serving {

// A served model: its name in URLs, and a base path holding numbered version folders (or one
// model folder, served as version 1). The version policy picks which versions are served.
struct ModelSource {
  std::string name;
  std::filesystem::path base_path;
  std::string version_policy = "latest";  // "latest" (the highest that load), "all" or "specific"
  int64_t num_versions = 1;               // for "latest": how many of the highest
  std::vector<int64_t> versions;          // for "specific"
};

// TF Serving's batching parameters: concurrent requests to one model version are run as one
// batch of up to max_batch_size instances, waiting at most batch_timeout_micros for more.
struct BatchingOptions {
  int64_t max_batch_size = 0;  // 0: batching off (each request runs alone)
  int64_t batch_timeout_micros = 1000;
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8501;  // 0: a free port, which port() tells
  std::vector<ModelSource> models;
  BatchingOptions batching;
  int64_t max_body_bytes = int64_t{32} << 20;  // larger bodies get 413
  int64_t max_instances = 10000;               // instances in one request; more get 413
  // To receive a whole request, to idle between requests, and to wait for a batch (504 after).
  double timeout_seconds = 30;
  double poll_seconds = 1.0;                   // how often base paths are looked at (TF Serving's file_system_poll_wait_seconds)
  std::string cors_allow_origin;               // sent as Access-Control-Allow-Origin when set
  std::string auth_token;                      // when set, every endpoint but /healthz needs "Authorization: Bearer <token>"
  int threads = 0;                             // I/O threads; 0: one per core
  bool handle_signals = true;                  // SIGTERM / SIGINT stop run() gracefully
  std::ostream* log = &std::cerr;              // load/unload lines and one access line per request
  bool access_log = true;
};

class Server {
 public:
  // Loads every model's versions and binds the port; throws IoError when the address cannot be
  // bound and ValueError for bad options.
  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int port() const;
  // Serves until stop() (or a signal): then refuses new connections, finishes the requests in
  // flight and returns.
  void run();
  // Safe from any thread, and from before run() starts.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The libraries the server is built with, beyond the core library's (kiln::libraries()).
std::vector<Component> libraries();

}  // namespace kiln::serving
