#include "notify-server/http/http_server.hpp"

#include <array>

#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "notify-server/http/tls.hpp"

namespace anshin::server {
namespace {

using boost::system::error_code;

// Runs `start(done)` (which calls `done(Result<T>)` once, from any thread) and resumes the
// calling coroutine on the io_context with the result. The work guard keeps io_context::run
// from returning while the call is out. Deliberately not a coroutine itself: g++ 12 destroys
// prvalue arguments of coroutines twice (GCC bug 99576), and `start` is usually a lambda.
template <class T, class Start>
asio::awaitable<Result<T>> AwaitCallback(asio::io_context& ioc, Start start) {
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(Result<T>)>(
      [&ioc, start = std::move(start)](auto handler) mutable {
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        auto work = asio::make_work_guard(ioc);
        start([shared, work](Result<T> result) {
          asio::post(work.get_executor(), [shared, result = std::move(result)]() mutable {
            (*shared)(std::move(result));
          });
        });
      },
      asio::use_awaitable);
}

bool IsQuietReadError(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::operation_aborted || ec == beast::error::timeout ||
         ec == asio::ssl::error::stream_truncated || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::error::bad_descriptor;
}

bool IsHttpParseError(const error_code& ec) {
  return &ec.category() == &http::make_error_code(http::error::bad_method).category();
}

bool ExpectsContinue(const Request& req) {
  return beast::iequals(req[http::field::expect], "100-continue");
}

// A lingering close after an early answer (413, 431, 400): the client may still be sending the
// request it started. Closing with unread input would reset the connection and could destroy the
// answer before the client reads it, so the rest is read and dropped, bounded in time and size.
template <class Stream>
asio::awaitable<void> DrainInput(Stream& stream) {
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
  std::array<char, 16384> scratch;
  std::size_t total = 0;
  error_code ec;
  while (!ec && total < 4 * wire::kMaxBodyBytes) {
    total += co_await stream.async_read_some(asio::buffer(scratch),
                                             asio::redirect_error(asio::use_awaitable, ec));
  }
}

}  // namespace

struct HttpServer::Connection {
  Connection(HttpServer& s, std::function<void()> close_fn)
      : server(s), id(++s.next_connection_id_), close(std::move(close_fn)) {
    server.connections_[id] = this;
    server.metrics_.ConnectionOpened();
  }
  ~Connection() {
    server.connections_.erase(id);
    --server.active_connections_;
    server.metrics_.ConnectionClosed();
    if (server.stopping_ && server.connections_.empty()) server.grace_timer_.cancel();
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  HttpServer& server;
  const std::uint64_t id;
  bool idle = true;  // waiting for a handshake or the next request: safe to close on shutdown
  std::function<void()> close;
};

HttpServer::HttpServer(asio::io_context& ioc, asio::ssl::context& agents_tls, Services& services,
                       const Clock& clock, HttpServerOptions options)
    : ioc_(ioc),
      agents_tls_(agents_tls),
      services_(services),
      clock_(clock),
      options_(std::move(options)),
      agents_acceptor_(ioc),
      public_acceptor_(ioc),
      grace_timer_(ioc) {}

HttpServer::~HttpServer() = default;

void HttpServer::SetPublicPages(std::vector<std::string> prefixes, PublicPageHandler handler) {
  router_options_.public_page_prefixes = std::move(prefixes);
  public_pages_ = std::move(handler);
}

void HttpServer::AddMetricsSource(MetricsSource source) {
  metrics_sources_.push_back(std::move(source));
}

Result<std::uint16_t> HttpServer::Bind(tcp::acceptor& acceptor, const ListenAddress& address,
                                       const char* name) {
  auto fail = [&](const error_code& ec) {
    return Status::Unavailable(std::string(name) + " listener " + address.host + ":" +
                               std::to_string(address.port) + ": " + ec.message());
  };
  error_code ec;
  tcp::resolver resolver(ioc_);
  auto endpoints = resolver.resolve(address.host, std::to_string(address.port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec) return fail(ec);
  tcp::endpoint endpoint = endpoints.begin()->endpoint();
  acceptor.open(endpoint.protocol(), ec);
  if (ec) return fail(ec);
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) return fail(ec);
  acceptor.bind(endpoint, ec);
  if (ec) return fail(ec);
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail(ec);
  return acceptor.local_endpoint().port();
}

Status HttpServer::Start() {
  ANSHIN_ASSIGN_OR_RETURN(agents_port_, Bind(agents_acceptor_, options_.agents_listen, "agents"));
  ANSHIN_ASSIGN_OR_RETURN(public_port_, Bind(public_acceptor_, options_.public_listen, "public"));
  asio::co_spawn(ioc_, Accept(agents_acceptor_, Listener::kAgents), asio::detached);
  asio::co_spawn(ioc_, Accept(public_acceptor_, Listener::kPublic), asio::detached);
  spdlog::info("listening: agents (mTLS) on {}:{}, public on {}:{}", options_.agents_listen.host,
               agents_port_, options_.public_listen.host, public_port_);
  return Status::Ok();
}

asio::awaitable<void> HttpServer::Accept(tcp::acceptor& acceptor, Listener listener) {
  asio::steady_timer backoff(ioc_);
  while (!stopping_) {
    error_code ec;
    tcp::socket socket =
        co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (stopping_) co_return;
    if (ec) {
      // EMFILE and friends: wait a little instead of spinning; the listener stays open.
      spdlog::warn("accept: {}", ec.message());
      backoff.expires_after(std::chrono::milliseconds(100));
      co_await backoff.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    if (active_connections_ >= options_.max_connections) {
      metrics_.ConnectionRefused();
      socket.close(ec);
      continue;
    }
    ++active_connections_;
    socket.set_option(tcp::no_delay(true), ec);
    if (listener == Listener::kAgents) {
      asio::co_spawn(ioc_, AgentSession(std::move(socket)), asio::detached);
    } else {
      asio::co_spawn(ioc_, PublicSession(std::move(socket)), asio::detached);
    }
  }
}

asio::awaitable<void> HttpServer::AgentSession(tcp::socket socket) {
  beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), agents_tls_);
  auto& lowest = beast::get_lowest_layer(stream);
  Connection conn(*this, [&lowest] { lowest.close(); });
  error_code ec;

  lowest.expires_after(options_.request_timeout);
  co_await stream.async_handshake(asio::ssl::stream_base::server,
                                  asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    metrics_.HandshakeFailed();
    spdlog::debug("agents: TLS handshake failed: {}", ec.message());
    co_return;
  }
  metrics_.Handshake(SSL_session_reused(stream.native_handle()) == 1);
  Result<Peer> peer = PeerOf(stream.native_handle());
  if (!peer.ok()) {
    spdlog::warn("agents: {}", peer.status().ToString());
    co_return;
  }
  const bool clean = co_await ServeRequests(stream, Listener::kAgents, &*peer, conn);
  if (clean && lowest.socket().is_open()) {
    lowest.expires_after(options_.request_timeout);
    co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<void> HttpServer::PublicSession(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  Connection conn(*this, [&stream] { stream.close(); });
  const bool clean = co_await ServeRequests(stream, Listener::kPublic, nullptr, conn);
  if (clean && stream.socket().is_open()) {
    error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  }
}

// Returns true when the connection ended cleanly after a response (the caller may close the
// TLS session politely), false on a read or write error.
template <class Stream>
asio::awaitable<bool> HttpServer::ServeRequests(Stream& stream, Listener listener, const Peer* peer,
                                                Connection& conn) {
  auto& lowest = beast::get_lowest_layer(stream);
  beast::flat_buffer buffer;
  bool first = true;
  while (!stopping_) {
    error_code ec;
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options_.header_limit));
    parser.body_limit(wire::kMaxBodyBytes);

    // Waiting for a request: the first one right after connecting must come within
    // request_timeout, later ones on a keep-alive connection within idle_timeout.
    conn.idle = true;
    lowest.expires_after(first ? options_.request_timeout : options_.idle_timeout);
    first = false;
    co_await http::async_read_header(stream, buffer, parser,
                                     asio::redirect_error(asio::use_awaitable, ec));
    conn.idle = false;
    if (!ec && !parser.is_done()) {
      if (ExpectsContinue(parser.get())) {
        http::response<http::empty_body> go_on{http::status::continue_, parser.get().version()};
        lowest.expires_after(options_.request_timeout);
        co_await http::async_write(stream, go_on, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return false;
      }
      lowest.expires_after(options_.request_timeout);
      co_await http::async_read(stream, buffer, parser,
                                asio::redirect_error(asio::use_awaitable, ec));
    }
    std::optional<Response> early;
    if (ec == http::error::body_limit) {
      early = ErrorResponse(
          parser.get().version(),
          Status::TooLarge("body: over " + std::to_string(wire::kMaxBodyBytes) + " bytes"));
    } else if (ec == http::error::header_limit) {
      early = ErrorResponse(
          11, Status::TooLarge("header: over " + std::to_string(options_.header_limit) + " bytes"));
      early->result(http::status::request_header_fields_too_large);
    } else if (ec && !IsQuietReadError(ec) && IsHttpParseError(ec)) {
      early = ErrorResponse(11, Status::InvalidArgument("request: " + ec.message()));
    } else if (ec) {
      spdlog::debug("connection {}: read: {}", conn.id, ec.message());
      co_return false;
    }
    if (early) {
      // The request could not be read whole: answer and close (the rest of it is unread).
      lowest.expires_after(options_.request_timeout);
      co_await http::async_write(stream, *early, asio::redirect_error(asio::use_awaitable, ec));
      metrics_.RequestDone("invalid", early->result_int(), std::chrono::nanoseconds(0));
      if (!ec) co_await DrainInput(stream);
      co_return false;
    }

    Request req = parser.release();
    const auto started = std::chrono::steady_clock::now();
    std::string route;
    Response res = co_await Handle(req, listener, peer, route);
    const bool keep_alive = res.keep_alive() && !stopping_;
    res.keep_alive(keep_alive);
    if (req.method() == http::verb::head) res.body().clear();  // Content-Length stays

    lowest.expires_after(options_.request_timeout);
    co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    metrics_.RequestDone(route, res.result_int(), std::chrono::steady_clock::now() - started);
    if (ec) {
      spdlog::debug("connection {}: write: {}", conn.id, ec.message());
      co_return false;
    }
    if (!keep_alive) co_return true;
  }
  co_return true;
}

asio::awaitable<Response> HttpServer::Handle(const Request& req, Listener listener,
                                             const Peer* peer, std::string& route) {
  Routed routed = Route(req, listener, router_options_);
  route = std::move(routed.route);
  if (auto* res = std::get_if<Response>(&routed.action)) co_return std::move(*res);

  if (auto* call = std::get_if<IngestCall>(&routed.action)) {
    Result<wire::TapAck> ack = co_await CallIngest(*peer, std::move(call->batch));
    if (!ack.ok()) {
      spdlog::info("agent {}: taps refused: {}", peer->agent_name, ack.status().ToString());
      co_return ErrorResponse(req, ack.status());
    }
    co_return JsonResponse(req, http::status::ok, wire::Serialize(*ack));
  }
  if (auto* call = std::get_if<AllowlistCall>(&routed.action)) {
    Result<wire::AllowlistDelta> delta = co_await CallAllowlist(*peer, call->since);
    if (!delta.ok()) {
      spdlog::info("agent {}: allowlist refused: {}", peer->agent_name, delta.status().ToString());
      co_return ErrorResponse(req, delta.status());
    }
    co_return JsonResponse(req, http::status::ok, wire::Serialize(*delta));
  }
  if (std::holds_alternative<MetricsCall>(routed.action)) {
    std::string text = co_await CallMetrics();
    co_return TextResponse(req, http::status::ok, "text/plain; version=0.0.4; charset=utf-8",
                           std::move(text));
  }
  // PublicPageCall: the router only produces it when a handler was set.
  co_return co_await CallPublicPage(req);
}

// CallIngest and CallAllowlist are plain functions returning the awaitable (not coroutines), and
// their lambdas hold the arguments behind a shared_ptr: see AwaitCallback on g++ 12.
asio::awaitable<Result<wire::TapAck>> HttpServer::CallIngest(Peer peer, wire::TapBatch batch) {
  struct Args {
    Peer peer;
    wire::TapBatch batch;
    TimePoint received_at;
  };
  auto args = std::make_shared<Args>(Args{std::move(peer), std::move(batch), clock_.Now()});
  return AwaitCallback<wire::TapAck>(
      ioc_, [this, args](std::function<void(Result<wire::TapAck>)> done) {
        services_.IngestTaps(std::move(args->peer), std::move(args->batch), args->received_at,
                             std::move(done));
      });
}

asio::awaitable<Result<wire::AllowlistDelta>> HttpServer::CallAllowlist(Peer peer,
                                                                        std::uint64_t since) {
  auto args = std::make_shared<Peer>(std::move(peer));
  return AwaitCallback<wire::AllowlistDelta>(
      ioc_, [this, args, since](std::function<void(Result<wire::AllowlistDelta>)> done) {
        services_.Allowlist(std::move(*args), since, std::move(done));
      });
}

asio::awaitable<Response> HttpServer::CallPublicPage(const Request& req) {
  Result<Response> res = co_await AwaitCallback<Response>(
      ioc_, [this, &req](std::function<void(Result<Response>)> done) {
        public_pages_(req, [done = std::move(done)](Response r) { done(std::move(r)); });
      });
  Response out = std::move(res).value();
  out.keep_alive(out.keep_alive() && req.keep_alive());
  co_return out;
}

// The services read the store for some figures: they answer off the network thread.
asio::awaitable<std::string> HttpServer::CallMetrics() {
  Result<std::string> services_text = co_await AwaitCallback<std::string>(
      ioc_, [this](std::function<void(Result<std::string>)> done) {
        services_.Metrics([done = std::move(done)](std::string text) { done(std::move(text)); });
      });
  std::string text = metrics_.Text();
  text += *services_text;
  for (const MetricsSource& source : metrics_sources_) text += source();
  co_return text;
}

void HttpServer::Shutdown() {
  if (stopping_) return;
  stopping_ = true;
  error_code ec;
  agents_acceptor_.close(ec);
  public_acceptor_.close(ec);
  spdlog::info("shutting down: {} connection(s) open", connections_.size());
  CloseIdleConnections();
  if (connections_.empty()) return;
  grace_timer_.expires_after(options_.shutdown_grace);
  grace_timer_.async_wait([this](const error_code& e) {
    if (e) return;  // cancelled: the last connection ended
    spdlog::warn("shutdown grace over: closing {} connection(s)", connections_.size());
    CloseAllConnections();
  });
}

void HttpServer::CloseIdleConnections() {
  std::vector<Connection*> idle;
  for (auto& [id, conn] : connections_) {
    if (conn->idle) idle.push_back(conn);
  }
  for (Connection* conn : idle) conn->close();
}

void HttpServer::CloseAllConnections() {
  std::vector<Connection*> all;
  for (auto& [id, conn] : connections_) all.push_back(conn);
  for (Connection* conn : all) conn->close();
}

}  // namespace anshin::server
