// anshin-ingest-load: drives anshin-server's POST /v1/taps from N concurrent agents over mutual
// TLS and reports throughput and acknowledgement latency (bench/ingest runs it).
//
// Each client is one coroutine on one io_context thread and uses its own agent identity
// (<agents-dir>/<name>/agent.{crt,key}), so every agent's seq stays ordered. Modes:
//   keep-alive (default): one connection per client, batches back to back (or paced by --rate);
//   --connect-per-upload: a new TCP + TLS connection per batch (what agents do), with full
//     handshakes or, with --resume, TLS session resumption (the last session is offered again).
// Output: "key value" lines: uploads, taps, seconds, taps_per_s, uploads_per_s, p50_ms, p99_ms,
// errors, resumed (handshakes that resumed).
#include "notify-server/http/net.hpp"

#include <openssl/ssl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

namespace anshin::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

struct Options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::filesystem::path agents_dir;
  std::filesystem::path ca;
  int clients = 64;
  int batch = 20;
  double duration_s = 10;
  double rate = 0;  // taps per second over all clients; 0 = as fast as acknowledged
  bool connect_per_upload = false;
  bool resume = false;
  bool tls12 = false;  // cap the client at TLS 1.2
};

struct Stats {
  std::vector<double> latencies_ms;
  std::uint64_t uploads = 0;
  std::uint64_t taps = 0;
  std::uint64_t errors = 0;
  std::uint64_t resumed = 0;
  std::string first_error;
  void Error(const std::string& what) {
    ++errors;
    if (first_error.empty()) first_error = what;
  }
};

struct Agent {
  std::string name;
  std::unique_ptr<ssl::context> tls;
};

std::string IsoNow() {
  auto now =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  std::time_t secs = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     now.time_since_epoch().count() % 1000);
}

std::string MakeBatch(const std::string& agent, std::uint64_t first, int n,
                      const std::vector<std::string>& cards) {
  std::string now = IsoNow();
  std::string out = fmt::format(R"({{"agent":"{}","sent_at":"{}","taps":[)", agent, now);
  for (int i = 0; i < n; ++i) {
    std::uint64_t seq = first + static_cast<std::uint64_t>(i);
    if (i) out += ',';
    out +=
        fmt::format(R"({{"seq":{},"card":"{}","at":"{}","reader":"entrance","direction":"auto"}})",
                    seq, cards[seq % cards.size()], now);
  }
  out += "]}";
  return out;
}

class Load {
 public:
  Load(Options o, std::vector<Agent> agents, std::vector<std::string> cards)
      : o_(std::move(o)), agents_(std::move(agents)), cards_(std::move(cards)) {}

  Stats Run() {
    tcp::resolver resolver(ioc_);
    endpoints_ = resolver.resolve(o_.host, std::to_string(o_.port));
    start_ = Clock::now();
    end_ = start_ + std::chrono::duration_cast<Clock::duration>(
                        std::chrono::duration<double>(o_.duration_s));
    for (int i = 0; i < o_.clients; ++i) {
      Agent& agent = agents_[static_cast<std::size_t>(i) % agents_.size()];
      if (o_.connect_per_upload) {
        asio::co_spawn(ioc_, ConnectPerUpload(agent, i), asio::detached);
      } else {
        asio::co_spawn(ioc_, KeepAlive(agent, i), asio::detached);
      }
    }
    ioc_.run();
    stats_.latencies_ms.shrink_to_fit();
    elapsed_s_ = std::chrono::duration<double>(Clock::now() - start_).count();
    return stats_;
  }
  double elapsed_s() const { return elapsed_s_; }

 private:
  using Stream = beast::ssl_stream<beast::tcp_stream>;

  // Pacing for --rate: each client sends a batch every clients*batch/rate seconds, starting
  // at a staggered offset.
  Clock::duration Interval() const {
    return std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(o_.clients * o_.batch / o_.rate));
  }

  asio::awaitable<bool> Connect(Stream& stream, SSL_SESSION* session) {
    error_code ec;
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
    co_await beast::get_lowest_layer(stream).async_connect(
        endpoints_, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      stats_.Error("connect: " + ec.message());
      co_return false;
    }
    beast::get_lowest_layer(stream).socket().set_option(tcp::no_delay(true));
    if (session != nullptr) SSL_set_session(stream.native_handle(), session);
    co_await stream.async_handshake(ssl::stream_base::client,
                                    asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      stats_.Error("handshake: " + ec.message());
      co_return false;
    }
    if (SSL_session_reused(stream.native_handle())) ++stats_.resumed;
    co_return true;
  }

  // Posts one batch and waits for its ACK; false on any failure.
  asio::awaitable<bool> Upload(Stream& stream, beast::flat_buffer& buffer, const Agent& agent,
                               std::uint64_t& next_seq, bool keep_alive) {
    http::request<http::string_body> req{http::verb::post, "/v1/taps", 11};
    req.set(http::field::host, o_.host);
    req.set(http::field::content_type, "application/json");
    req.keep_alive(keep_alive);
    req.body() = MakeBatch(agent.name, next_seq, o_.batch, cards_);
    req.prepare_payload();
    error_code ec;
    const auto sent = Clock::now();
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30));
    co_await http::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      stats_.Error("write: " + ec.message());
      co_return false;
    }
    http::response<http::string_body> res;
    co_await http::async_read(stream, buffer, res, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      stats_.Error("read: " + ec.message());
      co_return false;
    }
    if (res.result() != http::status::ok) {
      stats_.Error(fmt::format("HTTP {}: {}", res.result_int(), res.body()));
      co_return false;
    }
    stats_.latencies_ms.push_back(
        std::chrono::duration<double, std::milli>(Clock::now() - sent).count());
    ++stats_.uploads;
    stats_.taps += static_cast<std::uint64_t>(o_.batch);
    next_seq += static_cast<std::uint64_t>(o_.batch);
    co_return true;
  }

  asio::awaitable<void> Pace(asio::steady_timer& timer, Clock::time_point& next_at) {
    if (o_.rate <= 0) co_return;
    timer.expires_at(next_at);
    error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    next_at += Interval();
  }

  Clock::time_point FirstSend(int index) const {
    if (o_.rate <= 0) return start_;
    return start_ + Interval() * index / o_.clients;
  }

  asio::awaitable<void> KeepAlive(Agent& agent, int index) {
    Stream stream(ioc_, *agent.tls);
    if (!co_await Connect(stream, nullptr)) co_return;
    beast::flat_buffer buffer;
    asio::steady_timer timer(ioc_);
    Clock::time_point next_at = FirstSend(index);
    std::uint64_t seq = NextSeqStart(index);
    while (Clock::now() < end_) {
      co_await Pace(timer, next_at);
      if (Clock::now() >= end_) break;
      if (!co_await Upload(stream, buffer, agent, seq, true)) co_return;
    }
    error_code ec;
    beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ec);
  }

  asio::awaitable<void> ConnectPerUpload(Agent& agent, int index) {
    SSL_SESSION* session = nullptr;
    asio::steady_timer timer(ioc_);
    Clock::time_point next_at = FirstSend(index);
    std::uint64_t seq = NextSeqStart(index);
    while (Clock::now() < end_) {
      co_await Pace(timer, next_at);
      if (Clock::now() >= end_) break;
      Stream stream(ioc_, *agent.tls);
      if (!co_await Connect(stream, o_.resume ? session : nullptr)) break;
      beast::flat_buffer buffer;
      bool ok = co_await Upload(stream, buffer, agent, seq, false);
      if (o_.resume) {
        // The server's ticket (TLS 1.3) arrives after the handshake: take the session now.
        if (session != nullptr) SSL_SESSION_free(session);
        session = SSL_get1_session(stream.native_handle());
      }
      // Mark the session as cleanly ended: OpenSSL makes a session that was dropped without a
      // shutdown non-resumable. (The server already sent close_notify after "Connection: close".)
      SSL_set_shutdown(stream.native_handle(), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
      error_code ec;
      beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ec);
      beast::get_lowest_layer(stream).socket().close(ec);
      if (!ok) break;
    }
    if (session != nullptr) SSL_SESSION_free(session);
  }

  // Agents are shared round-robin when there are more clients than agents; keep their seqs
  // disjoint and increasing by giving each client its own range.
  std::uint64_t NextSeqStart(int index) const {
    return seq_base_ +
           static_cast<std::uint64_t>(index / static_cast<int>(agents_.size())) * 1'000'000'000ULL +
           1;
  }

 public:
  std::uint64_t seq_base_ = 0;

 private:
  Options o_;
  std::vector<Agent> agents_;
  std::vector<std::string> cards_;
  asio::io_context ioc_{1};
  tcp::resolver::results_type endpoints_;
  Clock::time_point start_, end_;
  double elapsed_s_ = 0;
  Stats stats_;
};

std::unique_ptr<ssl::context> ClientTls(const std::filesystem::path& dir,
                                        const std::filesystem::path& ca, bool tls12) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  ctx->set_verify_mode(ssl::verify_peer);
  ctx->load_verify_file(ca.string());
  ctx->use_certificate_chain_file((dir / "agent.crt").string());
  ctx->use_private_key_file((dir / "agent.key").string(), ssl::context::pem);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  if (tls12) SSL_CTX_set_max_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  // Sessions are kept by the client code (SSL_get1_session), not by OpenSSL's client cache.
  SSL_CTX_set_session_cache_mode(ctx->native_handle(), SSL_SESS_CACHE_OFF);
  return ctx;
}

// GET /v1/allowlist?since=0 with the first agent: the card tokens to tap.
std::vector<std::string> FetchCards(const Options& o, Agent& agent) {
  asio::io_context ioc;
  beast::ssl_stream<beast::tcp_stream> stream(ioc, *agent.tls);
  tcp::resolver resolver(ioc);
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
  beast::get_lowest_layer(stream).connect(resolver.resolve(o.host, std::to_string(o.port)));
  stream.handshake(ssl::stream_base::client);
  http::request<http::empty_body> req{http::verb::get, "/v1/allowlist?since=0", 11};
  req.set(http::field::host, o.host);
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  if (res.result() != http::status::ok) {
    throw std::runtime_error("allowlist: HTTP " + std::to_string(res.result_int()) + " " +
                             res.body());
  }
  std::vector<std::string> cards;
  const nlohmann::json delta = nlohmann::json::parse(res.body());
  for (const auto& t : delta.at("added")) {
    cards.push_back(t.get<std::string>());
  }
  if (cards.empty()) {
    throw std::runtime_error("the allowlist is empty (assign some cards first): " + res.body());
  }
  return cards;
}

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::size_t k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

}  // namespace
}  // namespace anshin::bench

int main(int argc, char** argv) {
  using namespace anshin::bench;
  Options o;
  std::uint64_t seq_base = 0;
  CLI::App app{"anshin-ingest-load: concurrent mTLS agents uploading taps to anshin-server"};
  app.add_option("--host", o.host, "server address")->capture_default_str();
  app.add_option("--port", o.port, "agents port")->required();
  app.add_option("--agents-dir", o.agents_dir,
                 "folder of agent bundles (<name>/agent.crt, agent.key), one per agent")
      ->required();
  app.add_option("--ca", o.ca, "deployment CA certificate")->required();
  app.add_option("--clients", o.clients, "concurrent clients")->capture_default_str();
  app.add_option("--batch", o.batch, "taps per upload")->capture_default_str();
  app.add_option("--duration", o.duration_s, "seconds to run")->capture_default_str();
  app.add_option("--rate", o.rate, "taps per second over all clients (0: unlimited)")
      ->capture_default_str();
  app.add_flag("--connect-per-upload", o.connect_per_upload,
               "a new TCP + TLS connection per upload");
  app.add_flag("--resume", o.resume, "with --connect-per-upload: resume the TLS session");
  app.add_flag("--tls12", o.tls12, "use TLS 1.2 instead of 1.3");
  app.add_option("--seq-base", seq_base,
                 "first seq minus one (later runs against the same database continue above "
                 "earlier ones)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    std::vector<Agent> agents;
    std::vector<std::filesystem::path> dirs;
    for (const auto& e : std::filesystem::directory_iterator(o.agents_dir)) {
      if (std::filesystem::exists(e.path() / "agent.crt")) dirs.push_back(e.path());
    }
    std::sort(dirs.begin(), dirs.end());
    for (const auto& d : dirs)
      agents.push_back({d.filename().string(), ClientTls(d, o.ca, o.tls12)});
    if (agents.empty()) throw std::runtime_error("no agent bundles in " + o.agents_dir.string());
    std::vector<std::string> cards = FetchCards(o, agents.front());

    Load load(o, std::move(agents), std::move(cards));
    load.seq_base_ = seq_base;
    Stats s = load.Run();
    double secs = load.elapsed_s();
    std::printf("uploads %llu\ntaps %llu\nseconds %.2f\ntaps_per_s %.0f\nuploads_per_s %.0f\n",
                static_cast<unsigned long long>(s.uploads), static_cast<unsigned long long>(s.taps),
                secs, static_cast<double>(s.taps) / secs, static_cast<double>(s.uploads) / secs);
    std::printf("p50_ms %.2f\np99_ms %.2f\nerrors %llu\nresumed %llu\n",
                Percentile(s.latencies_ms, 0.50), Percentile(s.latencies_ms, 0.99),
                static_cast<unsigned long long>(s.errors),
                static_cast<unsigned long long>(s.resumed));
    if (!s.first_error.empty()) std::fprintf(stderr, "first error: %s\n", s.first_error.c_str());
    return s.errors == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "anshin-ingest-load: %s\n", e.what());
    return 1;
  }
}
