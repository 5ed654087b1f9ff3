// HttpServer in-process: real listeners, real TLS (a test CA), a fake Services that answers
// from other threads. Covers the session coroutines, the Services bridge, /metrics, the public
// pages hook and graceful shutdown.
#include "notify-server/http/http_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <mutex>
#include <sstream>
#include <thread>

#include "notify-server/http/tls.hpp"
#include "tests/fakes/temp_dir.hpp"
#include "tests/server/http/test_pki.hpp"

namespace anshin::server {
namespace {

using namespace std::chrono_literals;

class FakeServices final : public Services {
 public:
  ~FakeServices() override {
    for (auto& t : threads_) t.join();
  }
  void IngestTaps(Peer peer, wire::TapBatch batch, TimePoint,
                  std::function<void(Result<wire::TapAck>)> done) override {
    std::lock_guard lock(mu_);
    peers.push_back(peer);
    wire::TapAck ack;
    ack.acked_through = batch.taps.empty() ? 0 : batch.taps.back().seq;
    ack.server_time = TimePoint(Millis(1'795'600'000'000));
    batches.push_back(std::move(batch));
    Result<wire::TapAck> result =
        fail.ok() ? Result<wire::TapAck>(ack) : Result<wire::TapAck>(fail);
    // Answer from another thread, as the real services do.
    threads_.emplace_back([result, done = std::move(done), d = delay] {
      std::this_thread::sleep_for(d);
      done(result);
    });
  }
  void Allowlist(Peer, std::uint64_t since,
                 std::function<void(Result<wire::AllowlistDelta>)> done) override {
    wire::AllowlistDelta delta;
    delta.version = since + 1;
    done(delta);  // inline, on the network thread
  }
  void Metrics(std::function<void(std::string)> done) override {
    // From another thread, as the real services read the store off the network thread.
    threads_.emplace_back([done = std::move(done)] { done("fake_services_metric 7\n"); });
  }

  std::mutex mu_;
  std::vector<Peer> peers;
  std::vector<wire::TapBatch> batches;
  Status fail;
  Millis delay{0};

 private:
  std::vector<std::thread> threads_;
};

struct Harness {
  explicit Harness(HttpServerOptions options = {}) : pki(dir.path()) {
    pki.IssueClient("a1");
    auto ctx = MakeAgentTlsContext({pki / "server.crt", pki / "server.key", pki / "ca.crt"});
    REQUIRE(ctx.ok());
    tls = std::move(ctx).value();
    server = std::make_unique<HttpServer>(ioc, *tls, services, clock, options);
  }
  void Start() {
    REQUIRE(server->Start().ok());
    net = std::thread([this] { ioc.run(); });
  }
  // Shuts down on the network thread and waits for io_context::run to return.
  void Stop() {
    if (!net.joinable()) return;
    asio::post(ioc, [this] { server->Shutdown(); });
    net.join();
  }
  ~Harness() { Stop(); }

  Response Agent(Request req, const std::string& client = "a1") {
    asio::io_context io;
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.load_verify_file((pki / "ca.crt").string());
    ctx.set_verify_mode(asio::ssl::verify_peer);
    ctx.use_certificate_chain_file((pki / (client + ".crt")).string());
    ctx.use_private_key_file((pki / (client + ".key")).string(), asio::ssl::context::pem);
    beast::ssl_stream<beast::tcp_stream> stream(io, ctx);
    beast::get_lowest_layer(stream).connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), server->agents_port()));
    stream.handshake(asio::ssl::stream_base::client);
    return RoundTrip(stream, std::move(req));
  }
  Response Public(Request req) {
    asio::io_context io;
    beast::tcp_stream stream(io);
    stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server->public_port()));
    return RoundTrip(stream, std::move(req));
  }
  template <class Stream>
  static Response RoundTrip(Stream& stream, Request req) {
    req.set(http::field::host, "127.0.0.1");
    req.prepare_payload();
    // A server refusing an oversized body answers and closes before the client has written it
    // all; the answer is still there to read.
    beast::error_code write_error;
    http::write(stream, req, write_error);
    if (write_error && write_error != asio::error::broken_pipe &&
        write_error != asio::error::connection_reset) {
      throw beast::system_error(write_error);
    }
    beast::flat_buffer buffer;
    Response res;
    http::read(stream, buffer, res);
    return res;
  }

  fakes::TempDir dir;
  testing::TestPki pki;
  FakeServices services;
  SystemClock clock;
  asio::io_context ioc{1};
  std::unique_ptr<asio::ssl::context> tls;
  std::unique_ptr<HttpServer> server;
  std::thread net;
};

Request Post(const std::string& body) {
  Request req{http::verb::post, "/v1/taps", 11};
  req.set(http::field::content_type, "application/json");
  req.body() = body;
  return req;
}

constexpr char kBatch[] =
    R"({"agent":"a1","sent_at":"2026-11-26T06:00:00Z","taps":[{"seq":7,)"
    R"("card":"0123456789abcdef0123456789abcdef","at":"2026-11-26T06:00:00Z",)"
    R"("reader":"entrance","direction":"auto"}]})";

TEST_CASE("an upload reaches Services with the certificate's identity", "[http_server]") {
  Harness h;
  h.Start();
  Response res = h.Agent(Post(kBatch));
  CHECK(res.result() == http::status::ok);
  CHECK(res.body().find("\"acked_through\":7") != std::string::npos);
  std::lock_guard lock(h.services.mu_);
  REQUIRE(h.services.peers.size() == 1);
  CHECK(h.services.peers[0].agent_name == "a1");
  CHECK(h.services.peers[0].cert_sha256.size() == 64);
  CHECK(h.services.batches[0].taps[0].seq == 7);
}

TEST_CASE("Services errors become documented statuses with JSON bodies", "[http_server]") {
  Harness h;
  h.services.fail = Status::Conflict("agent: belongs to another facility");
  h.Start();
  Response res = h.Agent(Post(kBatch));
  CHECK(res.result_int() == 409);
  CHECK(res.body().find("\"error\"") != std::string::npos);
  h.services.fail = Status::Unavailable("store busy");
  Response busy = h.Agent(Post(kBatch));
  CHECK(busy.result_int() == 503);
  CHECK(busy[http::field::retry_after] == "1");
}

TEST_CASE("allowlist, bad bodies, keep-alive on one connection", "[http_server]") {
  Harness h;
  h.Start();
  CHECK(
      h.Agent(Request{http::verb::get, "/v1/allowlist?since=4", 11}).body().find("\"version\":5") !=
      std::string::npos);
  CHECK(h.Agent(Post("{")).result_int() == 400);
  CHECK(h.Agent(Post(std::string(wire::kMaxBodyBytes + 1, ' '))).result_int() == 413);
  CHECK(h.Agent(Request{http::verb::get, "/metrics", 11}).result_int() == 404);
}

TEST_CASE("metrics and public pages on the public listener", "[http_server]") {
  Harness h;
  std::vector<std::thread> page_threads;
  std::string seen_address;
  h.server->SetPublicPages({"/verify"}, [&](const Request& req, const std::string& address,
                                            std::function<void(Response)> respond) {
    seen_address = address;
    Response res = TextResponse(req, http::status::ok, "text/html; charset=utf-8", "<p>ok</p>");
    page_threads.emplace_back(
        [res = std::move(res), respond = std::move(respond)] { respond(res); });
  });
  h.server->AddMetricsSource([] { return std::string("extra_source_metric 1\n"); });
  h.Start();
  Response page = h.Public(Request{http::verb::get, "/verify?token=x", 11});
  CHECK(page.result() == http::status::ok);
  CHECK(page.body() == "<p>ok</p>");
  CHECK(seen_address == "127.0.0.1");
  CHECK(h.Agent(Post(kBatch)).result() == http::status::ok);
  Response metrics = h.Public(Request{http::verb::get, "/metrics", 11});
  CHECK(metrics.result() == http::status::ok);
  const std::string& text = metrics.body();
  CHECK(text.find("fake_services_metric 7") != std::string::npos);
  CHECK(text.find("extra_source_metric 1") != std::string::npos);
  CHECK(text.find("anshin_http_requests_total{route=\"taps\",status=\"200\"} 1") !=
        std::string::npos);
  CHECK(text.find("anshin_http_requests_total{route=\"public_page\",status=\"200\"} 1") !=
        std::string::npos);
  CHECK(text.find("anshin_tls_handshakes_total{kind=\"full\"} 1") != std::string::npos);
  h.Stop();
  for (auto& t : page_threads) t.join();
}

TEST_CASE("shutdown finishes the request in flight and closes idle connections", "[http_server]") {
  HttpServerOptions options;
  options.shutdown_grace = Millis(10'000);
  Harness h(options);
  h.services.delay = Millis(300);
  h.Start();

  asio::io_context io;
  beast::tcp_stream idle(io);  // connected, never sends: must not hold up the shutdown
  idle.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), h.server->public_port()));

  Response in_flight;
  std::thread client([&] { in_flight = h.Agent(Post(kBatch)); });
  std::this_thread::sleep_for(100ms);  // the upload is now waiting for Services
  const auto started = std::chrono::steady_clock::now();
  h.Stop();
  client.join();
  CHECK(std::chrono::steady_clock::now() - started < 5s);
  CHECK(in_flight.result() == http::status::ok);
  CHECK_FALSE(in_flight.keep_alive());
}

TEST_CASE("idle keep-alive connections are closed after idle_timeout", "[http_server]") {
  HttpServerOptions options;
  options.idle_timeout = Millis(200);
  Harness h(options);
  h.Start();
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), h.server->public_port()));
  CHECK(Harness::RoundTrip(stream, Request{http::verb::get, "/healthz", 11}).result() ==
        http::status::ok);
  char byte;
  boost::system::error_code ec;
  const auto started = std::chrono::steady_clock::now();
  stream.socket().read_some(asio::buffer(&byte, 1), ec);  // blocks until the server closes
  CHECK(ec == asio::error::eof);
  CHECK(std::chrono::steady_clock::now() - started < 3s);
}

// ---- hostile clients (issue 12) -------------------------------------------------------------

// A plain TCP connection that sends nothing (or only what the test writes).
int ConnectTcp(std::uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  return fd;
}

// True when the server closes the connection within `within`.
bool ClosedByServer(int fd, std::chrono::milliseconds within) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  char buf[512];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 50) > 0 && recv(fd, buf, sizeof buf, 0) <= 0) return true;
  }
  return false;
}

double Metric(HttpServer& server, const std::string& series) {
  std::istringstream in(server.metrics().Text());
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return 0;
}

// Uploads `n` batches, each on a fresh connection (a new TLS handshake, as agents do after a
// quiet spell); returns how many were answered 200.
int Uploads(Harness& h, int n) {
  int ok = 0;
  for (int i = 0; i < n; ++i) {
    try {
      if (h.Agent(Post(kBatch)).result() == http::status::ok) ++ok;
    } catch (const std::exception&) {
    }
  }
  return ok;
}

// Defect 1: one max_connections counter for both listeners, and a silent connection held its
// slot for the whole request timeout, so held connections locked the agents out.
TEST_CASE("held connections on either listener do not lock enrolled agents out",
          "[http_server][hostile]") {
  // 2 x 1200 client sockets plus as many on the server side, in this one process.
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = std::max<rlim_t>(files.rlim_cur, std::min<rlim_t>(files.rlim_max, 8192));
  setrlimit(RLIMIT_NOFILE, &files);
  REQUIRE(files.rlim_cur >= 5000);
  Harness h;  // the default limits, as shipped
  h.Start();
  constexpr int kHeld = 1200;
  std::vector<int> held;
  for (int i = 0; i < kHeld; ++i) held.push_back(ConnectTcp(h.server->public_port()));
  for (int i = 0; i < kHeld; ++i) held.push_back(ConnectTcp(h.server->agents_port()));
  // Let the server accept (or refuse) every one of them before the agents come.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline &&
         Metric(*h.server, "anshin_http_connections_accepted_total") +
                 Metric(*h.server, "anshin_http_connections_refused_total") +
                 Metric(*h.server, "anshin_http_listener_evicted_total{listener=\"agents\"}") <
             2 * kHeld * 0.9) {
    std::this_thread::sleep_for(20ms);
  }
  const int ok = Uploads(h, 50);
  for (int fd : held) close(fd);
  CHECK(ok == 50);
}

TEST_CASE("a connection that never starts its handshake is closed after handshake_timeout",
          "[http_server][hostile]") {
  HttpServerOptions options;
  options.handshake_timeout = Millis(300);
  options.request_timeout = Millis(20'000);
  Harness h(options);
  h.Start();
  const auto started = std::chrono::steady_clock::now();
  int silent_agent = ConnectTcp(h.server->agents_port());
  int silent_public = ConnectTcp(h.server->public_port());
  CHECK(ClosedByServer(silent_agent, 5s));
  CHECK(ClosedByServer(silent_public, 5s));
  CHECK(std::chrono::steady_clock::now() - started < 5s);
  close(silent_agent);
  close(silent_public);
  CHECK(Uploads(h, 1) == 1);
}

TEST_CASE("the public listener limits connections per client address", "[http_server][hostile]") {
  HttpServerOptions options;
  options.public_limits = {.max_connections = 100, .max_pending = 100, .max_per_address = 3};
  Harness h(options);
  h.Start();
  std::vector<int> held;
  for (int i = 0; i < 3; ++i) held.push_back(ConnectTcp(h.server->public_port()));
  int fourth = ConnectTcp(h.server->public_port());
  CHECK(ClosedByServer(fourth, 2s));
  CHECK(Metric(*h.server,
               "anshin_http_listener_refused_total{listener=\"public\",reason=\"per_address\"}") ==
        1);
  close(fourth);
  // The agents listener has its own budget: unaffected.
  CHECK(Uploads(h, 3) == 3);
  for (int fd : held) close(fd);
}

TEST_CASE("pending connections give way to new ones, established agents keep their slots",
          "[http_server][hostile]") {
  HttpServerOptions options;
  options.agents_limits = {.max_connections = 8, .max_pending = 4, .max_per_address = 0};
  Harness h(options);
  h.Start();
  // An agent on a keep-alive connection, mid-conversation.
  asio::io_context io;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.load_verify_file((h.pki / "ca.crt").string());
  ctx.set_verify_mode(asio::ssl::verify_peer);
  ctx.use_certificate_chain_file((h.pki / "a1.crt").string());
  ctx.use_private_key_file((h.pki / "a1.key").string(), asio::ssl::context::pem);
  beast::ssl_stream<beast::tcp_stream> agent(io, ctx);
  beast::get_lowest_layer(agent).connect(
      tcp::endpoint(asio::ip::make_address("127.0.0.1"), h.server->agents_port()));
  agent.handshake(asio::ssl::stream_base::client);
  CHECK(Harness::RoundTrip(agent, Post(kBatch)).result() == http::status::ok);

  std::vector<int> silent;
  for (int i = 0; i < 40; ++i) silent.push_back(ConnectTcp(h.server->agents_port()));
  std::this_thread::sleep_for(200ms);
  CHECK(Metric(*h.server, "anshin_http_listener_evicted_total{listener=\"agents\"}") >= 36);
  // The oldest silent connections were closed to make room; the agent's connection was not.
  CHECK(ClosedByServer(silent.front(), 2s));
  CHECK(Harness::RoundTrip(agent, Post(kBatch)).result() == http::status::ok);
  // And a new agent still gets in.
  CHECK(Uploads(h, 3) == 3);
  for (int fd : silent) close(fd);
}

TEST_CASE("a trusted reverse proxy is not limited per address and forwards the client address",
          "[http_server][hostile]") {
  HttpServerOptions options;
  options.public_limits = {.max_connections = 100,
                           .max_pending = 100,
                           .max_per_address = 2,
                           .trusted_proxies = {"127.0.0.1"}};
  Harness h(options);
  std::mutex mu;
  std::string seen;
  h.server->SetPublicPages({"/verify"}, [&](const Request& req, const std::string& address,
                                            std::function<void(Response)> respond) {
    {
      std::lock_guard lock(mu);
      seen = address;
    }
    respond(TextResponse(req, http::status::ok, "text/plain", "ok"));
  });
  h.Start();
  std::vector<int> held;
  for (int i = 0; i < 5; ++i) held.push_back(ConnectTcp(h.server->public_port()));
  Request req{http::verb::get, "/verify", 11};
  req.set("X-Forwarded-For", "203.0.113.9");
  CHECK(h.Public(req).result() == http::status::ok);
  {
    std::lock_guard lock(mu);
    CHECK(seen == "203.0.113.9");
  }
  CHECK(Metric(*h.server,
               "anshin_http_listener_refused_total{listener=\"public\",reason=\"per_address\"}") ==
        0);
  for (int fd : held) close(fd);
}

// Defect 3: a Status from the store carries SQL text; it must never reach a client.
TEST_CASE("internal and store errors reach the client only as an opaque id",
          "[http_server][hostile]") {
  Harness h;
  h.Start();
  const Status internal[] = {
      Status::AlreadyExists("insert tap: UNIQUE constraint failed: taps.agent_id, taps.seq"),
      Status::Internal("SELECT id, facility_id FROM agents WHERE name = ?: no such column"),
      Status::NotFound("no row in agents for INSERT INTO taps"),
      Status::FailedPrecondition("store: sqlite3_prepare_v2: SQL logic error"),
      Status::Unavailable("store: UPDATE agents SET acked_through = ?: database is locked"),
  };
  for (const Status& s : internal) {
    INFO(s.ToString());
    h.services.fail = s;
    Response res = h.Agent(Post(kBatch));
    const bool unavailable = s.code() == Status::Code::kUnavailable;
    CHECK(res.result_int() == (unavailable ? 503 : 500));
    if (unavailable) CHECK(res[http::field::retry_after] == "1");
    for (const char* leak : {"SQL", "SELECT", "INSERT", "UPDATE", "UNIQUE", "agents", "taps.",
                             "sqlite", "locked", "column", "constraint"}) {
      CHECK(res.body().find(leak) == std::string::npos);
    }
    CHECK(res.body().find("\"error_id\":\"") != std::string::npos);
  }
  // Refusals meant for the agent keep their message.
  h.services.fail = Status::PermissionDenied("agent: a1 is revoked");
  Response refused = h.Agent(Post(kBatch));
  CHECK(refused.result_int() == 403);
  CHECK(refused.body().find("revoked") != std::string::npos);
}

// Defect 7: the public pages must not be framed, sniffed or leak their URL by Referer.
TEST_CASE("every public response carries the browser security headers", "[http_server][hostile]") {
  Harness h;
  h.server->SetPublicPages({"/verify"}, [](const Request& req, const std::string&,
                                           std::function<void(Response)> respond) {
    Response res = TextResponse(req, http::status::ok, "text/html; charset=utf-8", "<p>ok</p>");
    res.set("Content-Security-Policy", "default-src 'none'; style-src 'sha256-x'");
    respond(std::move(res));
  });
  h.Start();
  auto check = [](const Response& res, bool strict_csp) {
    CHECK(res["X-Frame-Options"] == "DENY");
    CHECK(res["X-Content-Type-Options"] == "nosniff");
    CHECK(res["Referrer-Policy"] == "no-referrer");
    const std::string csp(res["Content-Security-Policy"]);
    CHECK_THAT(csp, Catch::Matchers::StartsWith("default-src 'none'"));
    if (strict_csp) {
      CHECK(csp.find("form-action 'self'") != std::string::npos);
      CHECK(csp.find("frame-ancestors 'none'") != std::string::npos);
    }
  };
  check(h.Public(Request{http::verb::get, "/healthz", 11}), true);
  check(h.Public(Request{http::verb::get, "/metrics", 11}), true);
  check(h.Public(Request{http::verb::get, "/nope", 11}), true);
  check(h.Public(Request{http::verb::post, "/metrics", 11}), true);
  check(h.Public(Request{http::verb::get, "/verify?token=x", 11}), false);  // the page's own CSP
  Request huge{http::verb::get, "/healthz", 11};
  huge.set("X-Padding", std::string(20'000, 'x'));
  Response too_large = h.Public(huge);
  CHECK(too_large.result_int() == 431);
  check(too_large, true);
}

}  // namespace
}  // namespace anshin::server
