// The HTTP/1.1 side of kiln serve on Boost.Beast, one event loop per I/O thread (an io_context
// each, as nginx runs one loop per worker): the listener hands each new connection to the next
// loop, and the connection stays on that thread, so it needs no strand and no lock. Reading a
// request is bounded by a body limit (413) and a deadline that a sweep of the loop's connections
// enforces once a second-ish (a slow or idle client is closed; it never holds a thread). A
// request is handed to the RestApi; its answer is written on the connection's thread (at once,
// or posted there by a batch thread). Stopping closes the listener, waits for the requests in
// flight, then ends the loops.
#include <sys/resource.h>

#include <atomic>
#include <utility>  // before Boost 1.74's asio, which uses std::exchange without it
#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <list>
#include <optional>
#include <thread>

#include "kiln/error.hpp"
#include "kiln/serving.hpp"
#include "serving/http_request.hpp"
#include "serving/rest_api.hpp"

namespace kiln::serving {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using Socket = net::basic_stream_socket<tcp, net::io_context::executor_type>;

namespace {

// Lets one process hold as many idle connections as the hard limit allows.
void raise_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

struct Shared {
  const ServerOptions& options;
  const RestApi& api;
  std::atomic<int64_t> in_flight{0};
  std::atomic<bool> stopping{false};
  std::mutex log_mutex;
};

class Session;

// One I/O thread's loop and the connections it owns (touched only from that thread).
struct Loop {
  net::io_context io{1};
  std::list<std::weak_ptr<Session>> sessions;
  std::optional<net::steady_timer> sweeper;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Socket socket, Shared& shared) : socket_(std::move(socket)), shared_(shared) {
    beast::error_code ec;
    auto endpoint = socket_.remote_endpoint(ec);
    peer_ = ec ? "-" : endpoint.address().to_string();
    socket_.set_option(tcp::no_delay(true), ec);  // an answer is one write: send it now
    buffer_.reserve(16 * 1024);                      // a one-image request arrives in one read
  }

  void read() {
    parser_.emplace();
    limit_request(*parser_, shared_.options.max_body_bytes);
    reading_since_ = Clock::now();
    reading_ = true;
    http::async_read(socket_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  // Closes the connection when it has been reading one request (or idling) past the deadline.
  bool expire(Clock::time_point now) {
    if (!reading_ || now - reading_since_ < std::chrono::duration<double>(shared_.options.timeout_seconds)) return false;
    close();
    return true;
  }

 private:
  void on_read(beast::error_code ec) {
    reading_ = false;
    if (ec == http::error::end_of_stream || ec == net::error::operation_aborted || ec == net::error::connection_reset ||
        ec == net::error::eof || ec == net::error::bad_descriptor || ec == http::error::partial_message)
      return close();
    start_ = Clock::now();
    shared_.in_flight.fetch_add(1);
    if (ec) {
      keep_alive_ = false;
      // The request line, when it was read before the error (a body over the limit is refused at its
      // Content-Length header).
      method_ = std::string(parser_->get().method_string());
      target_ = std::string(parser_->get().target());
      if (method_.empty()) method_ = "-";
      if (target_.empty()) target_ = "-";
      return write(unreadable_request(ec, shared_.options.max_body_bytes));
    }
    auto& req = parser_->get();
    keep_alive_ = req.keep_alive() && !shared_.stopping.load();
    version_ = req.version();
    method_ = std::string(req.method_string());
    target_ = std::string(req.target());
    if (req.method() == http::verb::options && !shared_.options.cors_allow_origin.empty()) return write({204, "", ""});
    // An answer computed on this thread is written at once; one from a batch thread is posted here.
    shared_.api.handle(rest_request(req), [self = shared_from_this()](HttpResponse response) {
      net::dispatch(self->socket_.get_executor(),
                    [self, response = std::move(response)]() mutable { self->write(std::move(response)); });
    });
  }

  void write(HttpResponse response) {
    response_.emplace(static_cast<http::status>(response.status), version_);
    auto& res = *response_;
    res.set(http::field::server, "kiln");
    if (!response.content_type.empty()) res.set(http::field::content_type, response.content_type);
    if (!shared_.options.cors_allow_origin.empty()) {
      res.set(http::field::access_control_allow_origin, shared_.options.cors_allow_origin);
      res.set(http::field::access_control_allow_methods, "GET, POST, OPTIONS");
      res.set(http::field::access_control_allow_headers, "Content-Type, Authorization");
    }
    res.keep_alive(keep_alive_);
    if (response.status >= 400 && response.status < 500) reason_ = response.body;
    res.body() = std::move(response.body);
    res.prepare_payload();
    status_ = response.status;
    http::async_write(socket_, res, [self = shared_from_this()](beast::error_code ec, size_t) { self->on_write(ec); });
  }

  void on_write(beast::error_code ec) {
    if (shared_.options.access_log) log_access();
    shared_.in_flight.fetch_sub(1);
    if (ec || !keep_alive_ || shared_.stopping.load()) return close();
    read();
  }

  void log_access() {
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start_).count();
    char took[32];
    std::snprintf(took, sizeof took, "%.3fms", ms);
    std::lock_guard lock(shared_.log_mutex);
    *shared_.options.log << peer_ << " \"" << method_ << ' ' << target_ << "\" " << status_ << ' ' << took;
    if (!reason_.empty()) *shared_.options.log << ' ' << reason_;
    *shared_.options.log << '\n';
    reason_.clear();
  }

  void close() {
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }

  Socket socket_;
  beast::flat_buffer buffer_;
  std::optional<RequestParser> parser_;
  std::optional<http::response<http::string_body>> response_;
  Shared& shared_;
  std::string peer_, method_, target_, reason_;
  unsigned version_ = 11;
  bool keep_alive_ = true, reading_ = false;
  int status_ = 0;
  Clock::time_point start_, reading_since_;
};

}  // namespace

struct Server::Impl {
  explicit Impl(ServerOptions opts)
      : options(std::move(opts)),
        threads(options.threads > 0 ? options.threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()))),
        models(std::in_place, options.models, options.batching, threads, options.timeout_seconds, *options.log),
        api(*models, {.max_instances = options.max_instances, .auth_token = options.auth_token}),
        shared{options, api} {
    if (options.models.empty()) throw ValueError("kiln serve: no model to serve");
    raise_file_limit();
    for (int i = 0; i < threads; ++i) loops.push_back(std::make_unique<Loop>());
    acceptor.emplace(loops[0]->io);
    models->poll();
    beast::error_code ec;
    const auto address = net::ip::make_address(options.host, ec);
    if (ec) throw ValueError("--host: '" + options.host + "' is not an IP address");
    const tcp::endpoint endpoint(address, static_cast<unsigned short>(options.port));
    acceptor->open(endpoint.protocol(), ec);
    if (!ec) acceptor->set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor->bind(endpoint, ec);
    if (!ec) acceptor->listen(net::socket_base::max_listen_connections, ec);
    if (ec) throw IoError("cannot listen on " + options.host + ":" + std::to_string(options.port) + ": " + ec.message());
  }

  void accept() {
    Loop& loop = *loops[next_loop++ % loops.size()];
    acceptor->async_accept(loop.io.get_executor(), [this, &loop](beast::error_code ec, Socket socket) {
      if (!acceptor->is_open()) return;
      if (!ec)  // the socket is that loop's: the session starts there
        net::post(loop.io, [this, &loop, socket = std::move(socket)]() mutable {
          auto session = std::make_shared<Session>(std::move(socket), shared);
          loop.sessions.push_back(session);
          session->read();
        });
      accept();
    });
  }

  // Each loop looks over its connections a few times per read timeout.
  void sweep(Loop& loop) {
    const auto every = std::chrono::duration<double>(std::clamp(options.timeout_seconds / 4, 0.01, 1.0));
    loop.sweeper->expires_after(std::chrono::duration_cast<Clock::duration>(every));
    loop.sweeper->async_wait([this, &loop](beast::error_code ec) {
      if (ec) return;
      const auto now = Clock::now();
      for (auto it = loop.sessions.begin(); it != loop.sessions.end();) {
        auto session = it->lock();
        if (!session || session->expire(now))
          it = loop.sessions.erase(it);
        else
          ++it;
      }
      sweep(loop);
    });
  }

  // Closes the listener, then ends the loops once no request is in flight.
  void drain() {
    shared.stopping = true;
    beast::error_code ec;
    acceptor->close(ec);
    wait_for_requests();
  }
  void wait_for_requests() {
    if (shared.in_flight.load() == 0) {
      for (auto& loop : loops) loop->io.stop();
      return;
    }
    auto timer = std::make_shared<net::steady_timer>(loops[0]->io, std::chrono::milliseconds(5));
    timer->async_wait([this, timer](beast::error_code) { wait_for_requests(); });
  }

  void poll_loop() {
    std::unique_lock lock(poll_mutex);
    while (!poll_stop) {
      poll_wake.wait_for(lock, std::chrono::milliseconds(static_cast<int64_t>(options.poll_seconds * 1000)));
      if (poll_stop) break;
      lock.unlock();
      models->poll();
      lock.lock();
    }
  }

  ServerOptions options;
  int threads;
  std::optional<ModelManager> models;  // emptied first when the server goes (see ~Server)
  RestApi api;
  Shared shared;
  std::vector<std::unique_ptr<Loop>> loops;
  std::optional<tcp::acceptor> acceptor;
  size_t next_loop = 0;
  std::mutex poll_mutex;
  std::condition_variable poll_wake;
  bool poll_stop = false;
};

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Server::~Server() {
  // The models' threads end first (answering what they still hold): a request's callback holds
  // its connection, whose socket must be closed while its loop's io_context still exists. Then
  // the connections and timers go with their loops, before the API they use.
  impl_->acceptor.reset();
  impl_->models.reset();
  impl_->loops.clear();
}

int Server::port() const { return impl_->acceptor->local_endpoint().port(); }

void Server::stop() {
  net::post(impl_->loops[0]->io, [impl = impl_.get()] { impl->drain(); });
}

void Server::run() {
  Impl& s = *impl_;
  std::optional<net::signal_set> signals;
  if (s.options.handle_signals) {
    signals.emplace(s.loops[0]->io, SIGINT, SIGTERM);
    signals->async_wait([&s](beast::error_code ec, int) {
      if (!ec) s.drain();
    });
  }
  for (auto& loop : s.loops) {
    loop->sweeper.emplace(loop->io);
    s.sweep(*loop);
  }
  s.accept();
  std::thread poller([&s] { s.poll_loop(); });
  std::vector<std::thread> threads;
  for (size_t i = 1; i < s.loops.size(); ++i) threads.emplace_back([&s, i] { s.loops[i]->io.run(); });
  s.loops[0]->io.run();
  for (auto& t : threads) t.join();
  {
    std::lock_guard lock(s.poll_mutex);
    s.poll_stop = true;
  }
  s.poll_wake.notify_all();
  poller.join();
  if (signals) signals->cancel();
}

}  // namespace kiln::serving
