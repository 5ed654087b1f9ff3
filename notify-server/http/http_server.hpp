// HttpServer: the two listeners of anshin-server and their connections.
//
//  - agents: mutual TLS (tls.hpp), POST /v1/taps, GET /v1/allowlist, GET /healthz;
//  - public: plain HTTP (127.0.0.1 by default), GET /healthz, GET /metrics and the extra public
//    pages (mail address verification) of an optional PublicPageHandler.
//
// Each connection is one linear coroutine (handshake, then read request / route / call / write
// response, until the peer or the server ends it) on the io_context's single thread. Every
// handshake, read and write has a deadline: the TLS handshake, reading the rest of a request once
// its first byte arrived, and writing a response get `request_timeout`; a keep-alive connection
// waiting for its next request gets `idle_timeout`. Request headers are limited to 16 KiB and
// bodies to wire::kMaxBodyBytes (413). Connections beyond `max_connections` (both listeners
// together) are closed at once after accept.
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
#include "notify-server/http/http_metrics.hpp"
#include "notify-server/http/router.hpp"
#include "notify-server/http/server_config.hpp"
#include "notify-server/services.hpp"

namespace anshin::server {

struct HttpServerOptions {
  ListenAddress agents_listen{"127.0.0.1", 0};
  ListenAddress public_listen{"127.0.0.1", 0};
  int max_connections = 1024;
  Millis idle_timeout{30'000};
  Millis request_timeout{10'000};
  Millis shutdown_grace{10'000};
  std::size_t header_limit = 16 * 1024;
};

// Serves the extra public routes. Called on the network thread with a complete request; must call
// `respond` exactly once, from any thread (the answer is posted back to the network thread).
using PublicPageHandler =
    std::function<void(const Request& req, std::function<void(Response)> respond)>;

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

  // Binds both listeners and starts accepting. Fails naming the listener and the OS error.
  Status Start();
  std::uint16_t agents_port() const { return agents_port_; }
  std::uint16_t public_port() const { return public_port_; }

  void Shutdown();
  bool stopping() const { return stopping_; }

  HttpMetrics& metrics() { return metrics_; }

 private:
  struct Connection;

  Result<std::uint16_t> Bind(tcp::acceptor& acceptor, const ListenAddress& address,
                             const char* name);
  asio::awaitable<void> Accept(tcp::acceptor& acceptor, Listener listener);
  asio::awaitable<void> AgentSession(tcp::socket socket);
  asio::awaitable<void> PublicSession(tcp::socket socket);
  template <class Stream>
  asio::awaitable<bool> ServeRequests(Stream& stream, Listener listener, const Peer* peer,
                                      Connection& conn);
  asio::awaitable<Response> Handle(const Request& req, Listener listener, const Peer* peer,
                                   std::string& route);
  asio::awaitable<Result<wire::TapAck>> CallIngest(Peer peer, wire::TapBatch batch);
  asio::awaitable<Result<wire::AllowlistDelta>> CallAllowlist(Peer peer, std::uint64_t since);
  asio::awaitable<Response> CallPublicPage(const Request& req);
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
  std::vector<MetricsSource> metrics_sources_;
  HttpMetrics metrics_;

  tcp::acceptor agents_acceptor_;
  tcp::acceptor public_acceptor_;
  std::uint16_t agents_port_ = 0;
  std::uint16_t public_port_ = 0;
  asio::steady_timer grace_timer_;
  bool stopping_ = false;
  std::uint64_t next_connection_id_ = 0;
  int active_connections_ = 0;  // accepted, not yet closed (counted before the session runs)
  std::map<std::uint64_t, Connection*> connections_;
};

}  // namespace anshin::server
