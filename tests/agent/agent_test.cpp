// The agent's tap path with an allowlist older than a card: a card registered on the server
// after the agent's last refresh is accepted on its first tap (the unknown card refreshes the
// allowlist at once), and a stranger's card tapped again costs at most one connection per
// `unknown_card_refresh`.
#include "reader-agent/agent.hpp"

#include <catch2/catch.hpp>
#include <sstream>

#include "tests/agent/test_util.hpp"

namespace anshin::agent {
namespace {

using testing::FakeUplink;
using testing::ManualClock;
using testing::TempDir;
using testing::Token;

constexpr char kCardKey[] = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";

// OnTap is driven directly; the reader is never opened (the agent is not started).
class IdleReader final : public CardReader {
 public:
  std::string Describe() const override { return "idle"; }
  Status Open() override { return Status::Ok(); }
  Result<std::optional<Idm>> Poll() override { return std::optional<Idm>(); }
  void Close() override {}
};

struct Fixture {
  TempDir dir;
  ManualClock clock;
  CardKey key = CardKey::Parse(kCardKey).value();
  Idm child = Idm::Parse("0120000000000001").value();      // registered yesterday
  Idm new_child = Idm::Parse("0120000000000002").value();  // registered this morning
  Idm stranger = Idm::Parse("0000feedfacecafe").value();   // a parent's Suica
  FakeUplink* uplink = nullptr;                            // owned by the agent
  std::ostringstream console;
  std::unique_ptr<Agent> agent;

  // The agent's allowlist as last refreshed "now" (version 5: only `child`).
  explicit Fixture(Millis unknown_card_refresh = std::chrono::minutes(10)) {
    AgentConfig config;
    config.name = "club-1";
    config.database = dir.path() / "agent.db";
    config.card_key = key;
    config.server_url = "https://127.0.0.1:1";
    config.unknown_card_refresh = unknown_card_refresh;
    {
      auto store = AgentStore::Open(config.database).value();
      REQUIRE(store
                  ->ApplyAllowlist({.version = 5, .full = true, .added = {key.TokenOf(child)}},
                                   clock.Now())
                  .ok());
    }
    auto fake = std::make_unique<FakeUplink>();
    uplink = fake.get();
    // Since then the server registered `new_child` (version 6).
    uplink->allowlist = {.version = 6, .full = false, .added = {key.TokenOf(new_child)}};
    agent = Agent::Create(std::move(config), std::make_unique<IdleReader>(), std::move(fake), clock,
                          console)
                .value();
  }

  void Tap(const Idm& idm) { agent->OnTap(idm, std::chrono::steady_clock::now()); }

  AgentStore& Store() {
    if (!status_store)
      status_store = AgentStore::Open(dir.path() / "agent.db", AgentStore::Mode::kExisting).value();
    return *status_store;
  }
  std::vector<wire::Tap> Queued() { return Store().PendingTaps(100).value(); }
  std::int64_t UnknownTaps() { return Store().GetInt(meta::kUnknownTaps).value().value_or(0); }

  std::unique_ptr<AgentStore> status_store;
};

}  // namespace

TEST_CASE("a card registered after the last refresh is accepted on its first tap", "[agent]") {
  Fixture f;
  f.clock.Advance(std::chrono::minutes(11));
  f.Tap(f.new_child);
  auto log = f.uplink->log();
  CHECK(log.sessions == 1);
  CHECK(log.batches.empty());  // the refresh only; the upload is the uplink thread's job
  CHECK(log.allowlist_since == std::vector<std::uint64_t>{5});
  auto queued = f.Queued();
  REQUIRE(queued.size() == 1);
  CHECK(queued[0].seq == 1);
  CHECK(queued[0].card == f.key.TokenOf(f.new_child));
  CHECK_THAT(f.console.str(), Catch::Contains("accepted: tap #1 saved"));
  CHECK_THAT(f.console.str(), !Catch::Contains("not_registered"));
  CHECK(f.UnknownTaps() == 0);
  CHECK(f.Store().GetInt(meta::kAllowlistVersion).value() == std::optional<std::int64_t>(6));

  // A stranger right after: the list is fresh, so no connection, and "not registered".
  f.clock.Advance(std::chrono::minutes(9));
  f.Tap(f.stranger);
  f.Tap(f.stranger);
  CHECK(f.uplink->log().sessions == 1);
  CHECK(f.UnknownTaps() == 2);
  CHECK(f.Queued().size() == 1);
  CHECK_THAT(f.console.str(), Catch::Contains("not_registered"));

  // The registered cards' path never connects.
  f.clock.Advance(std::chrono::minutes(30));
  f.Tap(f.child);
  CHECK(f.uplink->log().sessions == 1);
  REQUIRE(f.Queued().size() == 2);
  CHECK(f.Queued()[1].seq == 2);
}

TEST_CASE("a stranger tapped again and again: one refresh per interval", "[agent]") {
  Fixture f;
  f.clock.Advance(std::chrono::minutes(2));
  f.Tap(f.stranger);  // the list is 2 minutes old: no refresh
  CHECK(f.uplink->log().sessions == 0);
  f.clock.Advance(std::chrono::minutes(9));
  f.Tap(f.stranger);  // 11 minutes: one refresh, still unknown
  CHECK(f.uplink->log().sessions == 1);
  for (int i = 0; i < 5; ++i) {
    f.clock.Advance(std::chrono::minutes(1));
    f.Tap(f.stranger);  // within the interval of that refresh: no connection
  }
  CHECK(f.uplink->log().sessions == 1);
  f.clock.Advance(std::chrono::minutes(6));
  f.Tap(f.stranger);
  auto log = f.uplink->log();
  CHECK(log.sessions == 2);
  CHECK(log.allowlist_since == std::vector<std::uint64_t>{5, 6});
  CHECK(f.UnknownTaps() == 8);
  CHECK(f.Queued().empty());
}

TEST_CASE("an unreachable server leaves the card not registered, once per interval", "[agent]") {
  Fixture f;
  f.uplink->allowlist_results = {Status::Unavailable("GET /v1/allowlist: connection refused")};
  f.clock.Advance(std::chrono::minutes(11));
  f.Tap(f.new_child);
  CHECK(f.uplink->log().sessions == 1);
  CHECK(f.Queued().empty());
  CHECK(f.UnknownTaps() == 1);
  CHECK_THAT(f.console.str(), Catch::Contains("not_registered"));
  CHECK_THAT(f.Store().GetText(meta::kLastError).value().value_or(""),
             Catch::Contains("connection refused"));
  // The upload's own error fields are untouched.
  CHECK_FALSE(f.Store().GetText(meta::kLastUploadError).value().has_value());
  // The failed attempt counts for the rate limit ...
  f.clock.Advance(std::chrono::minutes(5));
  f.Tap(f.new_child);
  CHECK(f.uplink->log().sessions == 1);
  CHECK(f.Queued().empty());
  // ... and after it, the server answers again: accepted.
  f.clock.Advance(std::chrono::minutes(6));
  f.Tap(f.new_child);
  CHECK(f.uplink->log().sessions == 2);
  REQUIRE(f.Queued().size() == 1);
  CHECK(f.Queued()[0].seq == 1);
}

TEST_CASE("unknown_card_refresh = 0 never connects for an unknown card", "[agent]") {
  Fixture f(Millis(0));
  f.clock.Advance(std::chrono::hours(24));
  f.Tap(f.new_child);
  f.Tap(f.stranger);
  CHECK(f.uplink->log().sessions == 0);
  CHECK(f.Queued().empty());
  CHECK(f.UnknownTaps() == 2);
}

}  // namespace anshin::agent

namespace anshin::agent {

TEST_CASE("the agent store keeps the allowlist's lost flags across a reopen", "[agent]") {
  Fixture f;
  // The server reports `child`'s card lost (version 6, still listed, flagged lost).
  f.uplink->allowlist = {.version = 6,
                         .full = false,
                         .added = {f.key.TokenOf(f.child)},
                         .lost = {f.key.TokenOf(f.child)}};
  REQUIRE(f.Store().ApplyAllowlist(f.uplink->allowlist, f.clock.Now()).ok());
  auto reopened = AgentStore::Open(f.dir.path() / "agent.db", AgentStore::Mode::kExisting).value();
  auto list = reopened->LoadAllowlist().value();
  CHECK(list.lost == std::vector<CardToken>{f.key.TokenOf(f.child)});
  CHECK(list.tokens == std::vector<CardToken>{f.key.TokenOf(f.child)});
}

TEST_CASE("the agent's feedback for a lost card is see_staff, then accepted once found",
          "[agent]") {
  TempDir dir;
  ManualClock clock;
  CardKey key = CardKey::Parse(kCardKey).value();
  Idm card = Idm::Parse("0120000000000001").value();
  AgentConfig config;
  config.name = "club-1";
  config.database = dir.path() / "agent.db";
  config.card_key = key;
  config.server_url = "https://127.0.0.1:1";
  {
    auto store = AgentStore::Open(config.database).value();
    REQUIRE(store
                ->ApplyAllowlist({.version = 5,
                                  .full = true,
                                  .added = {key.TokenOf(card)},
                                  .lost = {key.TokenOf(card)}},
                                 clock.Now())
                .ok());
  }
  std::ostringstream console;
  auto agent = Agent::Create(std::move(config), std::make_unique<IdleReader>(),
                             std::make_unique<FakeUplink>(), clock, console)
                   .value();
  agent->OnTap(card, std::chrono::steady_clock::now());
  CHECK_THAT(console.str(), Catch::Contains("see_staff: tap #1 saved"));
  CHECK_THAT(console.str(), Catch::Contains("please see staff"));
  CHECK_THAT(console.str(), !Catch::Contains("accepted"));
  auto store = AgentStore::Open(dir.path() / "agent.db", AgentStore::Mode::kExisting).value();
  auto queued = store->PendingTaps(10).value();
  REQUIRE(queued.size() == 1);  // uploaded all the same: the server raises the alert
  CHECK(queued[0].card == key.TokenOf(card));
}

TEST_CASE("a found card comes back unflagged and a full list drops old flags", "[agent]") {
  TempDir dir;
  ManualClock clock;
  auto store = AgentStore::Open(dir.path() / "agent.db").value();
  CardToken a = Token('a'), b = Token('b');
  REQUIRE(store
              ->ApplyAllowlist({.version = 1, .full = true, .added = {a, b}, .lost = {a, b}},
                               clock.Now())
              .ok());
  REQUIRE(store->ApplyAllowlist({.version = 2, .full = false, .added = {a}}, clock.Now()).ok());
  CHECK(store->LoadAllowlist().value().lost == std::vector<CardToken>{b});
  REQUIRE(store->ApplyAllowlist({.version = 3, .full = false, .removed = {b}}, clock.Now()).ok());
  CHECK(store->LoadAllowlist().value().lost.empty());
  REQUIRE(
      store->ApplyAllowlist({.version = 4, .full = true, .added = {a}, .lost = {a}}, clock.Now())
          .ok());
  REQUIRE(store->ApplyAllowlist({.version = 5, .full = true, .added = {a, b}}, clock.Now()).ok());
  CHECK(store->LoadAllowlist().value().lost.empty());
}

}  // namespace anshin::agent
