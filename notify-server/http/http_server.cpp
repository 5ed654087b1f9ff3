#include "notify-server/http/http_server.hpp"

#include <array>

#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <chrono>

#include "notify-server/http/tls.hpp"

namespace anshin::server {
namespace {

using boost::system::error_code;

// The listener's label in metrics.
std::string ListenerName(Listener listener) {
  switch (listener) {
    case Listener::kAgents:
      return "agents";
    case Listener::kStaff:
      return "staff";
    case Listener::kPublic:
      break;
  }
  return "public";
}

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

// Every connection is a descriptor: both budgets, plus a margin for the database, the logs and
// the mailer's connections, must fit under RLIMIT_NOFILE, or accept() fails with EMFILE for
// everyone, enrolled agents included. Raises the soft limit as far as the hard limit allows.
void EnsureDescriptors(rlim_t needed) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= needed) return;
  const rlim_t wanted = limit.rlim_max == RLIM_INFINITY ? needed : std::min(needed, limit.rlim_max);
  if (wanted > limit.rlim_cur) {
    limit.rlim_cur = wanted;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) getrlimit(RLIMIT_NOFILE, &limit);
  }
  if (limit.rlim_cur < needed) {
    spdlog::warn(
        "open files limit {} is below the {} the connection limits need (raise LimitNOFILE)",
        static_cast<unsigned long long>(limit.rlim_cur), static_cast<unsigned long long>(needed));
  }
}

}  // namespace

// A session's registration: in connections_ (for shutdown and eviction) and in its listener's
// budget, from the start of the session coroutine to its end.
struct HttpServer::Connection {
  Connection(HttpServer& s, Listener l, std::uint64_t connection_id, std::string peer_address,
             std::function<void()> close_fn)
      : server(s),
        listener(l),
        id(connection_id),
        address(std::move(peer_address)),
        close(std::move(close_fn)) {
    server.connections_[id] = this;
    server.metrics_.ConnectionOpened();
  }
  ~Connection() {
    server.connections_.erase(id);
    server.BudgetOf(listener).Release(id);
    server.metrics_.ConnectionClosed();
    if (server.stopping_ && server.connections_.empty()) server.grace_timer_.cancel();
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void SetPhase(ConnectionBudget::Phase phase) const {
    server.BudgetOf(listener).SetPhase(id, phase);
  }

  HttpServer& server;
  const Listener listener;
  const std::uint64_t id;
  const std::string address;  // the client's IP
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
      staff_acceptor_(ioc),
      grace_timer_(ioc),
      agents_budget_(options_.agents_limits),
      public_budget_(options_.public_limits),
      staff_budget_(options_.staff_limits) {}

HttpServer::~HttpServer() = default;

void HttpServer::SetPublicPages(std::vector<std::string> prefixes, PublicPageHandler handler) {
  router_options_.public_page_prefixes = std::move(prefixes);
  public_pages_ = std::move(handler);
}

void HttpServer::SetStaffConsole(asio::ssl::context& tls, PublicPageHandler handler) {
  staff_tls_ = &tls;
  staff_pages_ = std::move(handler);
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
  EnsureDescriptors(
      static_cast<rlim_t>(options_.agents_limits.max_connections) +
      static_cast<rlim_t>(options_.public_limits.max_connections) +
      (options_.staff_listen ? static_cast<rlim_t>(options_.staff_limits.max_connections) : 0) +
      128);
  ANSHIN_ASSIGN_OR_RETURN(agents_port_, Bind(agents_acceptor_, options_.agents_listen, "agents"));
  ANSHIN_ASSIGN_OR_RETURN(public_port_, Bind(public_acceptor_, options_.public_listen, "public"));
  asio::co_spawn(ioc_, Accept(agents_acceptor_, Listener::kAgents), asio::detached);
  asio::co_spawn(ioc_, Accept(public_acceptor_, Listener::kPublic), asio::detached);
  if (options_.staff_listen && staff_tls_ != nullptr && staff_pages_) {
    ANSHIN_ASSIGN_OR_RETURN(staff_port_, Bind(staff_acceptor_, *options_.staff_listen, "staff"));
    asio::co_spawn(ioc_, Accept(staff_acceptor_, Listener::kStaff), asio::detached);
    spdlog::info("listening: staff console (TLS) on {}:{}", options_.staff_listen->host,
                 staff_port_);
  }
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
    Admit(std::move(socket), listener);
  }
}

ConnectionBudget& HttpServer::BudgetOf(Listener listener) {
  switch (listener) {
    case Listener::kAgents:
      return agents_budget_;
    case Listener::kStaff:
      return staff_budget_;
    case Listener::kPublic:
      break;
  }
  return public_budget_;
}

void HttpServer::Admit(tcp::socket socket, Listener listener) {
  error_code ec;
  const tcp::endpoint remote = socket.remote_endpoint(ec);
  if (ec) return;  // already gone
  std::string address = remote.address().to_string();
  const std::uint64_t id = ++next_connection_id_;
  ConnectionBudget::Admission admission = BudgetOf(listener).Admit(id, address);
  for (std::uint64_t victim : admission.evicted) {
    metrics_.ConnectionEvicted(ListenerName(listener));
    // A victim whose session has not started yet is not registered; it sees that the budget no
    // longer holds it and ends at once.
    if (auto it = connections_.find(victim); it != connections_.end()) it->second->close();
  }
  if (!admission.admitted) {
    metrics_.ConnectionRefused(ListenerName(listener), admission.refused_because);
    socket.close(ec);
    return;
  }
  socket.set_option(tcp::no_delay(true), ec);
  if (listener == Listener::kAgents) {
    asio::co_spawn(ioc_, AgentSession(std::move(socket), id), asio::detached);
  } else if (listener == Listener::kStaff) {
    asio::co_spawn(ioc_, StaffSession(std::move(socket), id, std::move(address)), asio::detached);
  } else {
    asio::co_spawn(ioc_, PublicSession(std::move(socket), id, std::move(address)), asio::detached);
  }
}

asio::awaitable<void> HttpServer::AgentSession(tcp::socket socket, std::uint64_t id) {
  if (!agents_budget_.Holds(id)) co_return;  // evicted before it started
  beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), agents_tls_);
  auto& lowest = beast::get_lowest_layer(stream);
  Connection conn(*this, Listener::kAgents, id, {}, [&lowest] { lowest.close(); });
  error_code ec;

  // One deadline for the first byte and the whole handshake. The first bytes are read here
  // (then handed to OpenSSL) so the budget knows a silent connection from one that started.
  lowest.expires_after(options_.handshake_timeout);
  std::array<char, 1024> first;
  const std::size_t n = co_await lowest.async_read_some(
      asio::buffer(first), asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) {
    conn.SetPhase(ConnectionBudget::Phase::kHandshake);
    co_await stream.async_handshake(asio::ssl::stream_base::server, asio::buffer(first.data(), n),
                                    asio::redirect_error(asio::use_awaitable, ec));
  }
  if (ec) {
    metrics_.HandshakeFailed();
    spdlog::debug("agents: TLS handshake failed: {}", ec.message());
    co_return;
  }
  conn.SetPhase(ConnectionBudget::Phase::kIdle);
  metrics_.Handshake(SSL_session_reused(stream.native_handle()) == 1);
  Result<Peer> peer = PeerOf(stream.native_handle());
  if (!peer.ok()) {
    spdlog::warn("agents: {}", peer.status().ToString());
    co_return;
  }
  beast::flat_buffer buffer;
  const bool clean = co_await ServeRequests(stream, Listener::kAgents, &*peer, conn, buffer);
  if (clean && lowest.socket().is_open()) {
    lowest.expires_after(options_.request_timeout);
    co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<void> HttpServer::PublicSession(tcp::socket socket, std::uint64_t id,
                                                std::string address) {
  if (!public_budget_.Holds(id)) co_return;  // evicted before it started
  beast::tcp_stream stream(std::move(socket));
  Connection conn(*this, Listener::kPublic, id, std::move(address), [&stream] { stream.close(); });
  // The first byte must come within handshake_timeout; the rest of the header within
  // request_timeout (ServeRequests). Until the header is complete the connection is pending.
  beast::flat_buffer buffer;
  error_code ec;
  stream.expires_after(options_.handshake_timeout);
  const std::size_t n = co_await stream.async_read_some(
      buffer.prepare(4096), asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  buffer.commit(n);
  conn.SetPhase(ConnectionBudget::Phase::kHandshake);
  const bool clean = co_await ServeRequests(stream, Listener::kPublic, nullptr, conn, buffer);
  if (clean && stream.socket().is_open()) {
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  }
}

// Like AgentSession, without a client certificate: every request goes to the staff console.
asio::awaitable<void> HttpServer::StaffSession(tcp::socket socket, std::uint64_t id,
                                               std::string address) {
  if (!staff_budget_.Holds(id)) co_return;  // evicted before it started
  beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *staff_tls_);
  auto& lowest = beast::get_lowest_layer(stream);
  Connection conn(*this, Listener::kStaff, id, std::move(address), [&lowest] { lowest.close(); });
  error_code ec;
  lowest.expires_after(options_.handshake_timeout);
  std::array<char, 1024> first;
  const std::size_t n = co_await lowest.async_read_some(
      asio::buffer(first), asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) {
    conn.SetPhase(ConnectionBudget::Phase::kHandshake);
    co_await stream.async_handshake(asio::ssl::stream_base::server, asio::buffer(first.data(), n),
                                    asio::redirect_error(asio::use_awaitable, ec));
  }
  if (ec) {
    metrics_.HandshakeFailed();
    spdlog::debug("staff: TLS handshake failed: {}", ec.message());
    co_return;
  }
  conn.SetPhase(ConnectionBudget::Phase::kIdle);
  beast::flat_buffer buffer;
  const bool clean = co_await ServeRequests(stream, Listener::kStaff, nullptr, conn, buffer);
  if (clean && lowest.socket().is_open()) {
    lowest.expires_after(options_.request_timeout);
    co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
  }
}

// Returns true when the connection ended cleanly after a response (the caller may close the
// TLS session politely), false on a read or write error.
template <class Stream>
asio::awaitable<bool> HttpServer::ServeRequests(Stream& stream, Listener listener, const Peer* peer,
                                                Connection& conn, beast::flat_buffer& buffer) {
  auto& lowest = beast::get_lowest_layer(stream);
  bool first = true;
  while (!stopping_) {
    error_code ec;
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options_.header_limit));
    parser.body_limit(wire::kMaxBodyBytes);

    // Waiting for a request: the first one right after connecting must come within
    // request_timeout, later ones on a keep-alive connection within idle_timeout.
    conn.idle = true;
    if (!first) conn.SetPhase(ConnectionBudget::Phase::kIdle);
    lowest.expires_after(first ? options_.request_timeout : options_.idle_timeout);
    first = false;
    co_await http::async_read_header(stream, buffer, parser,
                                     asio::redirect_error(asio::use_awaitable, ec));
    conn.idle = false;
    conn.SetPhase(ConnectionBudget::Phase::kBusy);
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
      if (listener != Listener::kAgents) AddBrowserSecurityHeaders(*early);
      lowest.expires_after(options_.request_timeout);
      co_await http::async_write(stream, *early, asio::redirect_error(asio::use_awaitable, ec));
      metrics_.RequestDone("invalid", early->result_int(), std::chrono::nanoseconds(0));
      if (!ec) co_await DrainInput(stream);
      co_return false;
    }

    Request req = parser.release();
    const auto started = std::chrono::steady_clock::now();
    std::string route;
    Response res = co_await Handle(req, listener, peer, conn, route);
    if (listener == Listener::kPublic) AddBrowserSecurityHeaders(res);
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
                                             const Peer* peer, const Connection& conn,
                                             std::string& route) {
  if (listener == Listener::kStaff) {
    route = "console";
    co_return co_await CallStaffPage(req, conn.address);
  }
  Routed routed = Route(req, listener, router_options_);
  route = std::move(routed.route);
  if (auto* res = std::get_if<Response>(&routed.action)) co_return std::move(*res);

  if (auto* call = std::get_if<IngestCall>(&routed.action)) {
    Result<wire::TapAck> ack = co_await CallIngest(*peer, std::move(call->batch));
    if (!ack.ok())
      co_return ServiceError(req, ack.status(), "agent " + peer->agent_name + ": taps");
    co_return JsonResponse(req, http::status::ok, wire::Serialize(*ack));
  }
  if (auto* call = std::get_if<AllowlistCall>(&routed.action)) {
    Result<wire::AllowlistDelta> delta = co_await CallAllowlist(*peer, call->since);
    if (!delta.ok()) {
      co_return ServiceError(req, delta.status(), "agent " + peer->agent_name + ": allowlist");
    }
    co_return JsonResponse(req, http::status::ok, wire::Serialize(*delta));
  }
  if (std::holds_alternative<MetricsCall>(routed.action)) {
    std::string text = co_await CallMetrics();
    co_return TextResponse(req, http::status::ok, "text/plain; version=0.0.4; charset=utf-8",
                           std::move(text));
  }
  // PublicPageCall: the router only produces it when a handler was set.
  co_return co_await CallPublicPage(
      req, ClientAddress(req, conn.address, options_.public_limits.trusted_proxies));
}

// A refusal the client may read is logged at info; anything else gets an opaque id, and the full
// text (which may hold SQL or paths) goes only to the log, under that id.
Response HttpServer::ServiceError(const Request& req, const Status& status,
                                  const std::string& who) {
  if (IsClientFacing(status.code())) {
    spdlog::info("{} refused: {}", who, status.ToString());
    return ServiceErrorResponse(req, status, {});
  }
  std::array<unsigned char, 8> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
    // Without randomness the id is still unique within this process.
    random.fill(0);
    for (std::size_t i = 0; i < random.size(); ++i) {
      random[i] = static_cast<unsigned char>(next_connection_id_ >> (8 * i));
    }
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (unsigned char b : random) {
    id += kHex[b >> 4];
    id += kHex[b & 0xf];
  }
  spdlog::error("{} failed: error id {}: {}", who, id, status.ToString());
  return ServiceErrorResponse(req, status, id);
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

asio::awaitable<Response> HttpServer::CallPublicPage(const Request& req,
                                                     const std::string& address) {
  Result<Response> res = co_await AwaitCallback<Response>(
      ioc_, [this, &req, &address](std::function<void(Result<Response>)> done) {
        public_pages_(req, address, [done = std::move(done)](Response r) { done(std::move(r)); });
      });
  Response out = std::move(res).value();
  out.keep_alive(out.keep_alive() && req.keep_alive());
  co_return out;
}

asio::awaitable<Response> HttpServer::CallStaffPage(const Request& req,
                                                    const std::string& address) {
  Result<Response> res = co_await AwaitCallback<Response>(
      ioc_, [this, &req, &address](std::function<void(Result<Response>)> done) {
        staff_pages_(req, address, [done = std::move(done)](Response r) { done(std::move(r)); });
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
  staff_acceptor_.close(ec);
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
