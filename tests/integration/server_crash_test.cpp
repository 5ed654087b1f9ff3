// Crash test (issue 3): kill -9 the server while several agents upload, restart it, and check
// that every acknowledged tap is in the store exactly once, that the agents can resend what was
// not acknowledged without creating duplicates, and that every outbox row exists exactly once.
#include <atomic>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/integration/server_harness.hpp"

namespace anshin::itest {
namespace {

using namespace std::chrono_literals;

constexpr int kAgents = 4;
constexpr std::uint64_t kBatch = 5;

struct Uploader {
  std::string name;
  AgentFiles files;
  std::uint64_t acked = 0;      // highest acked_through received before the crash
  std::uint64_t last_sent = 0;  // highest seq sent in any attempt
};

// Taps are spread over the day so the engine opens and closes visits (and queues mails).
std::chrono::system_clock::time_point TapTime(std::chrono::system_clock::time_point base,
                                              std::uint64_t seq) {
  return base + std::chrono::seconds(150 * seq);
}

std::int64_t AgentTaps(const Deployment& dep, const std::string& agent, const std::string& where) {
  return QueryInt(dep.db(),
                  "SELECT count(*) FROM taps WHERE agent_id = (SELECT id FROM agents "
                  "WHERE name = '" +
                      agent + "')" + where);
}

TEST_CASE("kill -9 during uploads loses no acknowledged tap and duplicates nothing",
          "[integration][crash]") {
  Deployment dep("anshin-itest-crash");
  dep.AddFacility("F1");
  std::vector<Uploader> uploaders(kAgents);
  for (int i = 0; i < kAgents; ++i) {
    uploaders[i].name = "c" + std::to_string(i);
    uploaders[i].files = dep.EnrollAgent("F1", uploaders[i].name);
  }
  for (int i = 0; i < 6; ++i) {
    std::int64_t child = dep.AddChild("F1", "Child " + std::to_string(i));
    dep.AssignCard(child, "0a0b0c0d0e0f01" + std::to_string(10 + i));
    dep.AddVerifiedGuardian(child, "guardian" + std::to_string(i) + "@example.jp");
  }
  const auto config = dep.WriteServerConfig();
  const auto base = std::chrono::system_clock::now() - 12h;

  ServerProcess server;
  server.Start(config, dep.home() / "server.log");
  std::vector<std::string> cards;
  {
    HttpClient c({uploaders[0].files, dep.ca_cert()});
    cards = FetchAllowlist(c, server);
  }
  REQUIRE(cards.size() == 6);

  std::atomic<bool> stop{false};
  std::atomic<int> acked_batches{0};
  std::vector<std::thread> threads;
  for (Uploader& u : uploaders) {
    threads.emplace_back([&, &u = u] {
      HttpClient client({u.files, dep.ca_cert(), false, false, 5'000});
      std::uint64_t next = 1;
      while (!stop) {
        std::uint64_t last = next + kBatch - 1;
        u.last_sent = last;
        HttpResult r = client.Post(server.agents_url("/v1/taps"),
                                   MakeBatch(u.name, next, last, cards, TapTime(base, next)));
        if (r.curl_code != 0 || r.status != 200) break;  // the server died under us
        u.acked = nlohmann::json::parse(r.body)["acked_through"].get<std::uint64_t>();
        ++acked_batches;
        next = last + 1;
      }
    });
  }
  // Let the uploads run, then kill the server in the middle of them.
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (acked_batches < 40 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  server.Kill();
  stop = true;
  for (auto& t : threads) t.join();
  REQUIRE(acked_batches >= 40);

  server.Start(config, dep.home() / "server.log");
  for (const Uploader& u : uploaders) {
    INFO(u.name << " acked " << u.acked << " last sent " << u.last_sent);
    CHECK(u.acked > 0);
    // Every acknowledged tap is there exactly once ((agent, seq) is unique in the schema, so
    // count == acked means each of 1..acked is present).
    CHECK(AgentTaps(dep, u.name, " AND seq <= " + std::to_string(u.acked)) ==
          static_cast<std::int64_t>(u.acked));
    CHECK(AgentTaps(dep, u.name, "") <= static_cast<std::int64_t>(u.last_sent));
  }

  // The agents resend everything not acknowledged (some of it may have been committed).
  for (Uploader& u : uploaders) {
    HttpClient client({u.files, dep.ca_cert()});
    for (std::uint64_t first = u.acked + 1; first <= u.last_sent; first += kBatch) {
      std::uint64_t last = std::min(first + kBatch - 1, u.last_sent);
      HttpResult r = client.Post(server.agents_url("/v1/taps"),
                                 MakeBatch(u.name, first, last, cards, TapTime(base, first)));
      INFO(r.error << r.body);
      REQUIRE(r.status == 200);
      CHECK(nlohmann::json::parse(r.body)["acked_through"].get<std::uint64_t>() == last);
    }
    CHECK(AgentTaps(dep, u.name, "") == static_cast<std::int64_t>(u.last_sent));
  }
  REQUIRE(server.Stop() == 0);

  // Every outbox row exactly once: no two rows for the same guardian, child, kind and tap time,
  // and one row per tap whose decision mails (one verified guardian per child).
  CHECK(QueryInt(dep.db(),
                 "SELECT count(*) FROM (SELECT guardian_id, child_id, kind, tap_at, count(*) AS n "
                 "FROM outbox WHERE kind != 'verification' GROUP BY 1, 2, 3, 4 HAVING n > 1)") ==
        0);
  const std::int64_t mails =
      QueryInt(dep.db(), "SELECT count(*) FROM outbox WHERE kind != 'verification'");
  const std::int64_t mailing_taps =
      QueryInt(dep.db(),
               "SELECT count(*) FROM taps WHERE reason IN ('arrival', 'departure', "
               "'inferred_departure', 'correction', 'backfilled_arrival')");
  CHECK(mails > 0);
  CHECK(mails == mailing_taps);
}

}  // namespace
}  // namespace anshin::itest
