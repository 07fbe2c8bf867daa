// How kiln serve reads a request off the wire: Boost.Beast's parser with the server's limits,
// the request it hands to the RestApi, and the answer to one it cannot read. Shared by the
// connections (http_server.cpp) and the fuzzing harness, which feeds it bytes without a socket.
#pragma once

#include <utility>  // before Boost 1.74's asio, which uses std::exchange without it
#include <boost/beast/http.hpp>

#include "serving/rest_api.hpp"

namespace kiln::serving {

using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

// Bodies over max_body_bytes are refused at their Content-Length (413); headers over 64 KiB too.
void limit_request(RequestParser& parser, int64_t max_body_bytes);

// The parsed request as the RestApi takes it (views into `request`).
HttpRequest rest_request(const boost::beast::http::request<boost::beast::http::string_body>& request);

// The answer to a request the parser refused: 413 for a body over the limit, else 400.
HttpResponse unreadable_request(boost::beast::error_code ec, int64_t max_body_bytes);

}  // namespace kiln::serving
