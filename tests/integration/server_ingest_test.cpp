// Integration tests of anshin-server's agent protocol (issue 3, docs/protocol.md): the real
// server binary on 127.0.0.1 with a deployment made by the real anshin-admin, driven by libcurl.
// Every rejection must give its documented status and lose no earlier data.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/integration/server_harness.hpp"

namespace anshin::itest {
namespace {

using namespace std::chrono_literals;

// One facility F1 with agent a1, a second facility F2 with agent b1, four children with cards.
struct Fixture {
  Fixture() {
    dep.AddFacility("F1");
    dep.AddFacility("F2");
    a1 = dep.EnrollAgent("F1", "a1");
    b1 = dep.EnrollAgent("F2", "b1");
    for (int i = 0; i < 4; ++i) {
      std::int64_t child = dep.AddChild("F1", "Child " + std::to_string(i));
      dep.AssignCard(child, "01020304050607" + std::string(1, static_cast<char>('a' + i)) + "0");
    }
    server.Start(dep.WriteServerConfig(), dep.home() / "server.log");
  }
  HttpClient Client(const AgentFiles& who) { return HttpClient({who, dep.ca_cert()}); }
  std::int64_t Taps(const std::string& agent) {
    return QueryInt(dep.db(),
                    "SELECT count(*) FROM taps WHERE agent_id = (SELECT id FROM agents "
                    "WHERE name = '" +
                        agent + "')");
  }
  std::int64_t Outbox() {
    return QueryInt(dep.db(), "SELECT count(*) FROM outbox WHERE kind != 'verification'");
  }
  std::string Metrics() {
    HttpClient plain({});
    return plain.Get(server.public_url("/metrics")).body;
  }

  Deployment dep;
  AgentFiles a1, b1;
  ServerProcess server;
};

nlohmann::json Json(const HttpResult& r) {
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  INFO(r.body);
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

// A raw TCP connection for the slow-client cases.
int ConnectTcp(std::uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  return fd;
}

// True when the server closes the connection within `within`.
bool ClosedByServer(int fd, std::chrono::milliseconds within) {
  auto deadline = std::chrono::steady_clock::now() + within;
  char buf[512];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) > 0) {
      ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return true;  // EOF or reset
    }
  }
  return false;
}

TEST_CASE("valid upload is acknowledged after commit, health endpoints answer", "[integration]") {
  Fixture f;
  HttpClient client = f.Client(f.a1);
  std::vector<std::string> cards = FetchAllowlist(client, f.server);
  REQUIRE(cards.size() == 4);

  HttpResult r = client.Post(f.server.agents_url("/v1/taps"), MakeBatch("a1", 1, 3, cards));
  INFO(r.error << r.body);
  REQUIRE(r.curl_code == 0);
  REQUIRE(r.status == 200);
  auto ack = Json(r);
  CHECK(ack["acked_through"] == 3);
  CHECK(ack.contains("server_time"));
  CHECK(ack.contains("allowlist_version"));
  CHECK(f.Taps("a1") == 3);

  CHECK(client.Get(f.server.agents_url("/healthz")).status == 200);
  HttpClient plain({});
  CHECK(plain.Get(f.server.public_url("/healthz")).status == 200);
  std::string metrics = f.Metrics();
  CHECK(MetricValue(metrics, "anshin_http_requests_total{route=\"taps\",status=\"200\"}") == 1);
  CHECK(metrics.find("anshin_http_request_duration_seconds_bucket{route=\"taps\"") !=
        std::string::npos);
  CHECK(MetricValue(metrics, "anshin_tls_handshakes_total{kind=\"full\"}") >= 1);
  CHECK(f.server.Stop() == 0);
}

TEST_CASE("a retried batch is acknowledged without a second decision or mail", "[integration]") {
  Fixture f;
  std::int64_t child = QueryInt(f.dep.db(), "SELECT min(id) FROM children");
  f.dep.AddVerifiedGuardian(child, "parent@example.jp");
  HttpClient client = f.Client(f.a1);
  std::vector<std::string> cards = FetchAllowlist(client, f.server);
  std::string batch = MakeBatch("a1", 1, 4, cards);
  HttpResult first = client.Post(f.server.agents_url("/v1/taps"), batch);
  REQUIRE(first.status == 200);
  const std::int64_t outbox = f.Outbox();
  const std::int64_t taps = f.Taps("a1");
  CHECK(taps == 4);

  HttpResult again = client.Post(f.server.agents_url("/v1/taps"), batch);
  REQUIRE(again.status == 200);
  CHECK(Json(again)["acked_through"] == 4);
  CHECK(f.Taps("a1") == taps);
  CHECK(f.Outbox() == outbox);
  CHECK(f.server.Stop() == 0);
}

TEST_CASE("identity: no certificate, another CA, revoked agent, another agent's name",
          "[integration]") {
  Fixture f;
  HttpClient a1 = f.Client(f.a1);
  std::vector<std::string> cards = FetchAllowlist(a1, f.server);
  REQUIRE(a1.Post(f.server.agents_url("/v1/taps"), MakeBatch("a1", 1, 2, cards)).status == 200);

  SECTION("no client certificate: the TLS handshake fails") {
    HttpClient anonymous({std::nullopt, f.dep.ca_cert()});
    HttpResult r = anonymous.Post(f.server.agents_url("/v1/taps"), MakeBatch("a1", 3, 3, cards));
    CHECK(r.curl_code != 0);
    CHECK(r.status == 0);
  }
  SECTION("a certificate from another deployment's CA with the same name is refused") {
    Deployment other("anshin-itest-other");
    other.AddFacility("F1");
    AgentFiles impostor = other.EnrollAgent("F1", "a1");
    HttpClient client({impostor, f.dep.ca_cert()});
    HttpResult r = client.Post(f.server.agents_url("/v1/taps"), MakeBatch("a1", 3, 3, cards));
    CHECK(r.curl_code != 0);
    CHECK(r.status == 0);
  }
  SECTION("a revoked agent is refused at once, without a restart") {
    f.dep.Admin({"agent", "revoke", "a1"});
    HttpResult r = a1.Post(f.server.agents_url("/v1/taps"), MakeBatch("a1", 3, 3, cards));
    CHECK(r.status == 403);
    CHECK(Json(r)["error"].get<std::string>().find("revoked") != std::string::npos);
    CHECK(a1.Get(f.server.agents_url("/v1/allowlist?since=0")).status == 403);
  }
  SECTION("after a renewal the old certificate is refused at once, the new one is accepted") {
    const fs::path out = f.dep.home() / "renewed-a1";
    f.dep.Admin({"agent", "renew", "--agent", "a1", "--out", out.string()});
    // Same CA and name, still within its validity: only the fingerprint tells them apart.
    HttpResult old = a1.Post(f.server.agents_url("/v1/taps"), MakeBatch("a1", 3, 3, cards));
    CHECK(old.status == 401);
    CHECK(HttpClient({f.a1, f.dep.ca_cert()})
              .Get(f.server.agents_url("/v1/allowlist?since=0"))
              .status == 401);
    HttpClient renewed =
        f.Client(AgentFiles{"a1", out / "agent.crt", out / "agent.key", out / "ca.crt"});
    CHECK(renewed.Get(f.server.agents_url("/v1/allowlist?since=0")).status == 200);
  }
  SECTION("a batch claiming another agent is 403, whether or not that agent exists") {
    HttpResult other = a1.Post(f.server.agents_url("/v1/taps"), MakeBatch("b1", 3, 3, cards));
    HttpResult ghost = a1.Post(f.server.agents_url("/v1/taps"), MakeBatch("ghost", 3, 3, cards));
    CHECK(other.status == 403);
    CHECK(ghost.status == 403);
    CHECK(Json(other) == Json(ghost));  // nothing tells an existing name from an unknown one
  }
  SECTION("TLS 1.1 is refused") {
    double before = MetricValue(f.Metrics(), "anshin_tls_handshake_failures_total");
    HttpClient old({f.a1, f.dep.ca_cert(), true});
    HttpResult r = old.Get(f.server.agents_url("/healthz"));
    CHECK(r.curl_code != 0);
    CHECK(r.status == 0);
    CHECK(MetricValue(f.Metrics(), "anshin_tls_handshake_failures_total") == before + 1);
  }
  // Nothing refused touched what was committed before.
  CHECK(f.Taps("a1") == 2);
  CHECK(f.server.Stop() == 0);
}

TEST_CASE("malformed bodies, wrong types, huge bodies and 10,000 taps", "[integration]") {
  Fixture f;
  HttpClient client = f.Client(f.a1);
  std::vector<std::string> cards = FetchAllowlist(client, f.server);
  REQUIRE(client.Post(f.server.agents_url("/v1/taps"), MakeBatch("a1", 1, 2, cards)).status == 200);
  const std::string url = f.server.agents_url("/v1/taps");

  HttpResult malformed = client.Post(url, "{\"agent\": \"a1\", \"taps\": [");
  CHECK(malformed.status == 400);
  CHECK(Json(malformed).contains("error"));

  auto batch = nlohmann::json::parse(MakeBatch("a1", 3, 3, cards));
  batch["taps"][0]["seq"] = "three";
  HttpResult typed = client.Post(url, batch.dump());
  CHECK(typed.status == 400);
  CHECK(Json(typed)["field"].get<std::string>().find("seq") != std::string::npos);

  batch = nlohmann::json::parse(MakeBatch("a1", 3, 3, cards));
  batch["taps"][0]["at"] = "yesterday";
  HttpResult bad_time = client.Post(url, batch.dump());
  CHECK(bad_time.status == 400);
  CHECK(Json(bad_time)["field"].get<std::string>().find("at") != std::string::npos);

  HttpResult wrong_type = client.Post(url, MakeBatch("a1", 3, 3, cards), "text/plain");
  CHECK(wrong_type.status == 415);

  HttpResult huge = client.Post(url, std::string(2 << 20, ' '));
  CHECK(huge.status == 413);

  // 10,000 taps: over the 1 MiB body limit (and over kMaxTapsPerBatch): 413.
  HttpClient fresh = f.Client(f.a1);
  HttpResult many = fresh.Post(url, MakeBatch("a1", 3, 10'002, cards));
  CHECK(many.status == 413);
  CHECK(Json(many)["field"] == "body");

  CHECK(client.Get(f.server.agents_url("/v1/taps")).status == 405);
  CHECK(client.Get(f.server.agents_url("/nope")).status == 404);
  CHECK(client.Get(f.server.agents_url("/v1/allowlist?since=x")).status == 400);

  // No earlier data lost, and the agent carries on where it was.
  CHECK(f.Taps("a1") == 2);
  HttpClient after = f.Client(f.a1);
  HttpResult next = after.Post(url, MakeBatch("a1", 3, 4, cards));
  CHECK(next.status == 200);
  CHECK(Json(next)["acked_through"] == 4);
  CHECK(f.server.Stop() == 0);
}

TEST_CASE("slow clients are timed out while others are served", "[integration]") {
  Fixture f;                                        // request_timeout 1 s, idle_timeout 3 s
  int silent = ConnectTcp(f.server.agents_port());  // never starts the TLS handshake
  int partial = ConnectTcp(f.server.public_port());
  const char kHead[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n";  // never ends its header
  REQUIRE(send(partial, kHead, sizeof kHead - 1, 0) > 0);

  HttpClient client = f.Client(f.a1);
  std::vector<std::string> cards = FetchAllowlist(client, f.server);
  HttpResult r = client.Post(f.server.agents_url("/v1/taps"), MakeBatch("a1", 1, 1, cards));
  CHECK(r.status == 200);

  CHECK(ClosedByServer(silent, 5s));
  CHECK(ClosedByServer(partial, 5s));
  close(silent);
  close(partial);

  // An idle keep-alive connection is closed after idle_timeout; the client reconnects.
  std::this_thread::sleep_for(3500ms);
  HttpResult later = client.Post(f.server.agents_url("/v1/taps"), MakeBatch("a1", 2, 2, cards));
  CHECK(later.status == 200);
  std::string metrics = f.Metrics();
  CHECK(MetricValue(metrics, "anshin_tls_handshakes_total{kind=\"full\"}") +
            MetricValue(metrics, "anshin_tls_handshakes_total{kind=\"resumed\"}") >=
        2);
  CHECK(f.Taps("a1") == 2);
  CHECK(f.server.Stop() == 0);
}

TEST_CASE("connections beyond public_max_per_address are refused", "[integration]") {
  Deployment dep;
  dep.AddFacility("F1");
  ServerProcess server;
  server.Start(dep.WriteServerConfig("public_max_per_address = 2\n"), dep.home() / "server.log");
  int c1 = ConnectTcp(server.public_port());
  int c2 = ConnectTcp(server.public_port());
  std::this_thread::sleep_for(200ms);
  int c3 = ConnectTcp(server.public_port());
  CHECK(ClosedByServer(c3, 2s));
  close(c1);
  close(c2);
  close(c3);
  std::this_thread::sleep_for(200ms);
  HttpClient plain({});
  HttpResult r = plain.Get(server.public_url("/metrics"));
  CHECK(r.status == 200);
  CHECK(MetricValue(r.body, "anshin_http_connections_refused_total") == 1);
  CHECK(server.Stop() == 0);
}

TEST_CASE("TLS sessions are resumed by reconnecting agents", "[integration]") {
  Fixture f;
  ClientOptions options{f.a1, f.dep.ca_cert()};
  options.fresh_connection = true;  // a new connection per request, as agents do
  HttpClient client(options);
  for (int i = 0; i < 4; ++i) REQUIRE(client.Get(f.server.agents_url("/healthz")).status == 200);
  std::string metrics = f.Metrics();
  CHECK(MetricValue(metrics, "anshin_tls_handshakes_total{kind=\"full\"}") == 1);
  CHECK(MetricValue(metrics, "anshin_tls_handshakes_total{kind=\"resumed\"}") == 3);
  CHECK(f.server.Stop() == 0);
}

}  // namespace
}  // namespace anshin::itest
