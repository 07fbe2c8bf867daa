#include "serving/http_request.hpp"

#include <string>
#include <string_view>

namespace kiln::serving {

namespace http = boost::beast::http;

void limit_request(RequestParser& parser, int64_t max_body_bytes) {
  parser.body_limit(static_cast<uint64_t>(max_body_bytes));
  parser.header_limit(64 * 1024);
}

HttpRequest rest_request(const http::request<http::string_body>& request) {
  auto view = [](boost::beast::string_view v) { return std::string_view(v.data(), v.size()); };
  return {view(request.method_string()), view(request.target()), request.body(),
          view(request[http::field::authorization])};
}

HttpResponse unreadable_request(boost::beast::error_code ec, int64_t max_body_bytes) {
  if (ec == http::error::body_limit)
    return error_response(413, "the request body is over the limit of " + std::to_string(max_body_bytes) +
                                   " bytes (--max_body_bytes)");
  return error_response(400, "malformed HTTP request: " + ec.message());
}

}  // namespace kiln::serving
