// tls_scan_target: a TLS listener on 127.0.0.1 with anshin-server's TLS policy
// (MakeServerTlsContext: versions, suites, groups, resumption, no compression or renegotiation)
// but without client authentication, served by the real HttpServer. Scanners that cannot present
// a client certificate (testssl.sh) check the policy here; a later staff listener (TLS, no client
// certificate) is the same shape. Writes {"port":N} to --ready-file; runs until SIGTERM.
#include "notify-server/http/net.hpp"

#include <csignal>
#include <cstdio>
#include <fstream>

#include <CLI/CLI.hpp>

#include "notify-server/http/http_server.hpp"
#include "notify-server/http/tls.hpp"

namespace {

using namespace anshin;
using namespace anshin::server;

// No peer is ever authenticated here: every call is refused.
class RefuseAll final : public Services {
 public:
  void IngestTaps(Peer, wire::TapBatch, TimePoint,
                  std::function<void(Result<wire::TapAck>)> done) override {
    done(Status::Unauthenticated("scan target"));
  }
  void Allowlist(Peer, std::uint64_t,
                 std::function<void(Result<wire::AllowlistDelta>)> done) override {
    done(Status::Unauthenticated("scan target"));
  }
  void Metrics(std::function<void(std::string)> done) override { done({}); }
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tls_scan_target: anshin-server's TLS policy without client authentication"};
  std::string cert, key, ready;
  app.add_option("--cert", cert, "server certificate chain (PEM)")->required();
  app.add_option("--key", key, "its private key (PEM)")->required();
  app.add_option("--ready-file", ready, "where to write {\"port\":N}")->required();
  CLI11_PARSE(app, argc, argv);
  std::signal(SIGPIPE, SIG_IGN);

  auto tls = MakeServerTlsContext(cert, key);
  if (!tls.ok()) {
    std::fprintf(stderr, "tls_scan_target: %s\n", tls.status().ToString().c_str());
    return 1;
  }
  asio::io_context ioc(1);
  RefuseAll services;
  SystemClock clock;
  HttpServerOptions options;
  HttpServer server(ioc, **tls, services, clock, options);
  if (Status s = server.Start(); !s.ok()) {
    std::fprintf(stderr, "tls_scan_target: %s\n", s.ToString().c_str());
    return 1;
  }
  std::ofstream(ready) << "{\"port\":" << server.agents_port() << "}\n";
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) { server.Shutdown(); });
  ioc.run();
  return 0;
}
