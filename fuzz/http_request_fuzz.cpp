// Raw HTTP/1.1 bytes as kiln serve reads them off a connection (Beast's parser with the
// server's limits), the request then handled by the TF Serving REST API as the server handles it.
#include "fuzz_support.hpp"
#include "serving/http_request.hpp"
#include "serving_fixture.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kiln::serving;
  constexpr int64_t kMaxBody = 64 * 1024;
  RequestParser parser;
  limit_request(parser, kMaxBody);
  parser.eager(true);
  namespace http = boost::beast::http;
  boost::beast::error_code ec;
  size_t used = 0;
  for (;;) {
    const size_t n = parser.put(boost::asio::buffer(data + used, size - used), ec);
    used += n;
    if (ec != http::error::need_more) break;
    ec = {};
    if (n == 0 || used == size) {  // the input ends here, as a client closing its side
      if (!parser.got_some()) return 0;  // a connection closed before a request: nothing to answer
      parser.put_eof(ec);
      break;
    }
  }
  if (ec == http::error::partial_message) return 0;  // the server closes such a connection
  if (ec) {
    unreadable_request(ec, kMaxBody);
    return 0;
  }
  if (parser.is_done()) kiln::fuzz::answer(rest_request(parser.get()));
  return 0;
}
