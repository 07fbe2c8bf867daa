// A minimal HTTP/1.0 file server on 127.0.0.1 for download tests: GET /<name> answers with the
// registered bytes, anything else with 404. It serves until destroyed.
#pragma once

#include <atomic>
#include <map>
#include <string>
#include <thread>

namespace kiln::testing {

class HttpServer {
 public:
  HttpServer();
  ~HttpServer();
  void serve(const std::string& name, std::string bytes) { files_[name] = std::move(bytes); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }

 private:
  void loop();
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::map<std::string, std::string> files_;
  std::thread thread_;
};

}  // namespace kiln::testing
