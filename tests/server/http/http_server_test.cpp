// HttpServer in-process: real listeners, real TLS (a test CA), a fake Services that answers
// from other threads. Covers the session coroutines, the Services bridge, /metrics, the public
// pages hook and graceful shutdown.
#include "notify-server/http/http_server.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <mutex>
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
  h.server->SetPublicPages(
      {"/verify"}, [&](const Request& req, std::function<void(Response)> respond) {
        Response res = TextResponse(req, http::status::ok, "text/html; charset=utf-8", "<p>ok</p>");
        page_threads.emplace_back(
            [res = std::move(res), respond = std::move(respond)] { respond(res); });
      });
  h.server->AddMetricsSource([] { return std::string("extra_source_metric 1\n"); });
  h.Start();
  Response page = h.Public(Request{http::verb::get, "/verify?token=x", 11});
  CHECK(page.result() == http::status::ok);
  CHECK(page.body() == "<p>ok</p>");
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

}  // namespace
}  // namespace anshin::server
