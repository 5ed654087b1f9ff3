// HttpServer: the listeners of anshin-server and their connections.
//
//  - agents: mutual TLS (tls.hpp), POST /v1/taps, GET /v1/allowlist, GET /healthz;
//  - public: plain HTTP (127.0.0.1 by default), GET /healthz, GET /metrics and the extra public
//    pages (mail address verification) of an optional PublicPageHandler. Every public response
//    carries the browser security headers (router.hpp AddBrowserSecurityHeaders);
//  - staff (optional, options.staff_listen): TLS without client certificates, every request
//    handed to the staff console's handler (SetStaffConsole; docs/console.md), own budget.
//
// Each connection is one linear coroutine (handshake, then read request / route / call / write
// response, until the peer or the server ends it) on the io_context's single thread. Every
// handshake, read and write has a deadline:
//   - `handshake_timeout` (a few seconds): from accept to the end of the TLS handshake (agents),
//     or to the first byte of the first request (public). A connection that never sends a
//     ClientHello or a byte is gone after it;
//   - `request_timeout`: reading a request once it started (the first request's header on the
//     public listener included), and writing a response;
//   - `idle_timeout`: a keep-alive connection waiting for its next request.
// Request headers are limited to 16 KiB and bodies to wire::kMaxBodyBytes (413).
//
// Connection limits (connection_budget.hpp has the rules): each listener has its own
// ConnectionBudget, so a flood of one listener never takes the other's slots. The budget counts
// all connections (max_connections), connections still in their TLS handshake or before their
// first request (max_pending: the oldest gives way to a new one, so idle or slowloris
// connections cannot fill the listener), and connections per client address
// (max_per_address; the public listener's default limits one address to a few connections,
// trusted reverse proxies excepted, and a later staff listener gets its own budget the same way).
// The agents listener has no per-address limit by default (a facility's PCs may share one NAT
// address); there a flood is held off by max_pending and handshake_timeout, and the slots of
// enrolled agents, which finish their handshake at once, stay free: this is the reserve that keeps
// uploads going while the public side or the agents port itself is flooded by clients without a
// certificate. Beyond a limit the new socket is closed right after accept.
//
// Errors from Services are answered with ServiceErrorResponse: internal text (SQL, paths) never
// reaches a client; the full Status is logged under the opaque error id the client sees.
//
// Ownership and threads: the server borrows the io_context, the TLS context, the Services, the
// Clock and the handler, which must outlive it; every method is called on the io_context's
// thread (or before it runs). Services may answer from any thread; results are posted back.
//
// Shutdown(): stops accepting, closes connections waiting for a request, lets requests in
// flight finish and answers them with "Connection: close"; connections still open after `grace`
// are closed. Once they are gone the server holds no more work, so io_context::run returns.
#pragma once

#include "notify-server/http/net.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.hpp"
#include "common/time.hpp"
#include "notify-server/http/connection_budget.hpp"
#include "notify-server/http/http_metrics.hpp"
#include "notify-server/http/router.hpp"
#include "notify-server/http/server_config.hpp"
#include "notify-server/services.hpp"

namespace anshin::server {

struct HttpServerOptions {
  ListenAddress agents_listen{"127.0.0.1", 0};
  ListenAddress public_listen{"127.0.0.1", 0};
  ListenerLimits agents_limits{.max_connections = 1024, .max_pending = 256, .max_per_address = 0};
  ListenerLimits public_limits{.max_connections = 256, .max_pending = 64, .max_per_address = 8};
  // The staff console's TLS listener (docs/console.md); nullopt: none.
  std::optional<ListenAddress> staff_listen;
  ListenerLimits staff_limits{.max_connections = 128, .max_pending = 32, .max_per_address = 16};
  Millis handshake_timeout{5'000};
  Millis idle_timeout{30'000};
  Millis request_timeout{10'000};
  Millis shutdown_grace{10'000};
  std::size_t header_limit = 16 * 1024;
};

// Serves the extra public routes. Called on the network thread with a complete request and the
// client's address (the TCP peer's IP, e.g. "192.0.2.7", or for a request through one of
// public_limits.trusted_proxies, the trusted reverse proxies, the address it forwarded for:
// router.hpp ClientAddress); must call `respond` exactly once,
// from any thread (the answer is posted back to the network thread).
using PublicPageHandler = std::function<void(const Request& req, const std::string& client_address,
                                             std::function<void(Response)> respond)>;

// More Prometheus text for /metrics (e.g. the mailer's counters). Runs on the network thread:
// must be thread-safe and cheap, and must not touch the store.
using MetricsSource = std::function<std::string()>;

class HttpServer {
 public:
  HttpServer(asio::io_context& ioc, asio::ssl::context& agents_tls, Services& services,
             const Clock& clock, HttpServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Both before Start(). `prefixes` are the paths the handler serves ("/verify").
  void SetPublicPages(std::vector<std::string> prefixes, PublicPageHandler handler);
  void AddMetricsSource(MetricsSource source);
  // Before Start(), when options.staff_listen is set: the staff listener's TLS context (server
  // side, no client certificate) and the handler that answers every request on it.
  void SetStaffConsole(asio::ssl::context& tls, PublicPageHandler handler);

  // Binds both listeners and starts accepting. Fails naming the listener and the OS error.
  Status Start();
  std::uint16_t agents_port() const { return agents_port_; }
  std::uint16_t public_port() const { return public_port_; }
  std::uint16_t staff_port() const { return staff_port_; }  // 0: no staff listener

  void Shutdown();
  bool stopping() const { return stopping_; }

  HttpMetrics& metrics() { return metrics_; }

 private:
  struct Connection;

  Result<std::uint16_t> Bind(tcp::acceptor& acceptor, const ListenAddress& address,
                             const char* name);
  asio::awaitable<void> Accept(tcp::acceptor& acceptor, Listener listener);
  void Admit(tcp::socket socket, Listener listener);
  asio::awaitable<void> AgentSession(tcp::socket socket, std::uint64_t id);
  asio::awaitable<void> PublicSession(tcp::socket socket, std::uint64_t id, std::string address);
  asio::awaitable<void> StaffSession(tcp::socket socket, std::uint64_t id, std::string address);
  template <class Stream>
  asio::awaitable<bool> ServeRequests(Stream& stream, Listener listener, const Peer* peer,
                                      Connection& conn, beast::flat_buffer& buffer);
  asio::awaitable<Response> Handle(const Request& req, Listener listener, const Peer* peer,
                                   const Connection& conn, std::string& route);
  ConnectionBudget& BudgetOf(Listener listener);
  asio::awaitable<Result<wire::TapAck>> CallIngest(Peer peer, wire::TapBatch batch);
  asio::awaitable<Result<wire::AllowlistDelta>> CallAllowlist(Peer peer, std::uint64_t since);
  asio::awaitable<Response> CallPublicPage(const Request& req, const std::string& address);
  asio::awaitable<Response> CallStaffPage(const Request& req, const std::string& address);
  Response ServiceError(const Request& req, const Status& status, const std::string& who);
  asio::awaitable<std::string> CallMetrics();
  void CloseIdleConnections();
  void CloseAllConnections();

  asio::io_context& ioc_;
  asio::ssl::context& agents_tls_;
  Services& services_;
  const Clock& clock_;
  const HttpServerOptions options_;
  RouterOptions router_options_;
  PublicPageHandler public_pages_;
  asio::ssl::context* staff_tls_ = nullptr;
  PublicPageHandler staff_pages_;
  std::vector<MetricsSource> metrics_sources_;
  HttpMetrics metrics_;

  tcp::acceptor agents_acceptor_;
  tcp::acceptor public_acceptor_;
  std::uint16_t agents_port_ = 0;
  std::uint16_t public_port_ = 0;
  tcp::acceptor staff_acceptor_;
  std::uint16_t staff_port_ = 0;
  asio::steady_timer grace_timer_;
  bool stopping_ = false;
  std::uint64_t next_connection_id_ = 0;
  ConnectionBudget agents_budget_;
  ConnectionBudget public_budget_;
  ConnectionBudget staff_budget_;
  std::map<std::uint64_t, Connection*> connections_;  // sessions running, by id
};

}  // namespace anshin::server
