// IngestService, AllowlistService and ClosingChecks against a real SQLite store in a temp dir,
// with a fake clock; the failure paths of group commit through a fault-injecting store.
#include <atomic>
#include <catch2/catch.hpp>
#include <future>
#include <thread>

#include "notify-server/agent_api.hpp"
#include "notify-server/ingest/allowlist_service.hpp"
#include "notify-server/ingest/closing_checks.hpp"
#include "notify-server/ingest/ingest_service.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "tests/fakes/fake_clock.hpp"
#include "tests/fakes/faulty_store.hpp"
#include "tests/fakes/seed.hpp"
#include "tests/fakes/temp_dir.hpp"

namespace anshin::ingest {
namespace {

using store::Actor;

TimePoint T(const char* rfc3339) { return ParseRfc3339(rfc3339).value(); }
CardToken Tok(char c) { return CardToken::Parse(std::string(32, c)).value(); }

struct Fixture {
  fakes::TempDir dir{"ingest-test"};
  std::shared_ptr<fakes::FakeClock> clock =
      std::make_shared<fakes::FakeClock>(T("2026-11-26T15:00:00+09:00"));
  std::unique_ptr<store::Store> real = [this] {
    store::SqliteOptions so;
    so.path = dir / "anshin.db";
    return std::unique_ptr<store::Store>(store::SqliteStore::Open(so).value());
  }();
  fakes::FaultyStore store{*real};  // fails only when a test asks
  Actor who{"tester", T("2026-11-26T09:00:00+09:00")};
  fakes::Seed seed{*real, who};
  FacilityId facility, other_facility;
  ChildId child;
  GuardianId verified, unverified;
  server::Peer peer{"hikari-1-pc", std::string(64, 'a')};
  std::unique_ptr<IngestService> services;
  std::unique_ptr<AllowlistService> allowlist;
  std::unique_ptr<ClosingChecks> closing;
  std::unique_ptr<server::AgentApi> api;

  Fixture() {
    facility = seed.Facility("hikari-1", "光が丘第一学童クラブ");
    other_facility = seed.Facility("hikari-2", "光が丘第二学童クラブ");
    AddAgent("hikari-1-pc", facility, std::string(64, 'a'));
    AddAgent("hikari-1-pc2", facility, std::string(64, 'b'));
    AddAgent("hikari-2-pc", other_facility, std::string(64, 'c'));
    child = AddChild("練馬 さくら", facility, Tok('1'));
    verified = seed.VerifiedGuardian(child, "parent@example.jp");
    unverified = seed.Guardian(child, "typo@example.jp").guardian;
    // The verification mails are not what these tests look at.
    REQUIRE(store::InWrite(*real, [&](store::WriteTxn& t) {
              return t.outbox().Claim(100, who.at);
            }).ok());
    IngestOptions o;
    o.clock = clock;
    o.zones = fakes::FixedJst();
    services = std::make_unique<IngestService>(store, o);
    allowlist = std::make_unique<AllowlistService>(store, 2);
    closing = std::make_unique<ClosingChecks>(store, fakes::FixedJst());
    api = std::make_unique<server::AgentApi>(store, *services, *allowlist, *closing, *clock,
                                             fakes::FixedJst());
  }

  void AddAgent(const std::string& name, FacilityId f, const std::string& sha) {
    seed.Agent(name, f, sha);
  }

  ChildId AddChild(const std::string& name, FacilityId f, const CardToken& card) {
    return seed.ChildWithCard(name, f, card);
  }

  Result<wire::TapAck> Ingest(const server::Peer& p, wire::TapBatch batch, TimePoint received_at) {
    std::promise<Result<wire::TapAck>> promise;
    auto future = promise.get_future();
    services->IngestTaps(p, std::move(batch), received_at,
                         [&promise](Result<wire::TapAck> r) { promise.set_value(std::move(r)); });
    return future.get();
  }

  Result<wire::AllowlistDelta> Allowlist(const server::Peer& p, std::uint64_t since) {
    std::promise<Result<wire::AllowlistDelta>> promise;
    allowlist->Allowlist(
        p, since, [&promise](Result<wire::AllowlistDelta> r) { promise.set_value(std::move(r)); });
    return promise.get_future().get();
  }

  std::string Metrics() {
    std::promise<std::string> promise;
    api->Metrics([&promise](std::string text) { promise.set_value(std::move(text)); });
    return promise.get_future().get();
  }

  static wire::TapBatch Batch(const std::string& agent, TimePoint sent_at,
                              std::vector<std::pair<std::uint64_t, TimePoint>> taps,
                              const CardToken& card) {
    wire::TapBatch b;
    b.agent = agent;
    b.sent_at = sent_at;
    for (auto& [seq, at] : taps)
      b.taps.push_back(wire::Tap{seq, card, at, "entrance", Direction::kAuto});
    return b;
  }

  store::Agent Agent(const std::string& name) { return seed.agents.Get(name).value(); }

  std::vector<store::TapRecord> Taps(const std::string& agent) {
    const AgentId id = Agent(agent).id;
    return store::InRead(
               *real, [&](store::ReadTxn& t) { return t.attendance().TapsOfAgent(id, 0, 100000); })
        .value();
  }
  std::vector<store::OutboxMessage> Mail() {
    std::vector<store::OutboxMessage> out;
    auto rows = store::InRead(*real, [](store::ReadTxn& t) {
                  return t.outbox().List(std::nullopt);
                }).value();
    for (auto& r : rows) {
      if (r.message.kind != store::OutboxKind::kVerification) out.push_back(r.message);
    }
    return out;
  }
  std::vector<store::AlertRecord> OpenAlerts() {
    return store::InRead(*real, [](store::ReadTxn& t) { return t.alerts().List(true); }).value();
  }
  std::uint64_t AllowlistVersion() {
    return store::InRead(*real, [](store::ReadTxn& t) { return t.cards().AllowlistVersion(); })
        .value();
  }
};

TEST_CASE("a valid batch is judged and queues mail for verified guardians only", "[ingest]") {
  Fixture fx;
  const TimePoint arrive = T("2026-11-26T15:02:00+09:00"), leave = T("2026-11-26T17:45:00+09:00");
  auto ack = fx.Ingest(
      fx.peer, Fixture::Batch("hikari-1-pc", leave, {{1, arrive}, {2, leave}}, Tok('1')), leave);
  REQUIRE(ack.ok());
  CHECK(ack->acked_through == 2);
  CHECK_FALSE(ack->gap);
  CHECK(ack->allowlist_version == fx.AllowlistVersion());
  CHECK(ack->server_time == fx.clock->Now());

  auto taps = fx.Taps("hikari-1-pc");
  REQUIRE(taps.size() == 2);
  CHECK(taps[0].reason == Reason::kArrival);
  CHECK(taps[0].child == fx.child);
  CHECK(taps[0].late);  // received 2h43m after the tap
  CHECK(taps[1].reason == Reason::kDeparture);
  CHECK_FALSE(taps[1].late);

  auto mail = fx.Mail();
  REQUIRE(mail.size() == 2);
  CHECK(mail[0].kind == store::OutboxKind::kArrival);
  CHECK(mail[0].guardian == fx.verified);
  CHECK(mail[0].tap_at == arrive);
  CHECK(mail[0].late);
  CHECK(mail[1].kind == store::OutboxKind::kDeparture);
  CHECK(mail[1].guardian == fx.verified);
  CHECK(fx.Agent("hikari-1-pc").last_contact == leave);
}

TEST_CASE("guardians get only the kinds they chose", "[ingest]") {
  Fixture fx;
  store::Guardian g;
  g.child = fx.child;
  g.email = "departures-only@example.jp";
  g.wants_arrival = false;
  auto t = fx.seed.guardians.Add(g, fx.who).value();
  REQUIRE(fx.seed.guardians.VerifyByCode(t.guardian, t.code, fx.who).ok());
  const TimePoint arrive = T("2026-11-26T15:02:00+09:00"), leave = T("2026-11-26T17:45:00+09:00");
  REQUIRE(fx.Ingest(fx.peer, Fixture::Batch("hikari-1-pc", arrive, {{1, arrive}}, Tok('1')), arrive)
              .ok());
  REQUIRE(
      fx.Ingest(fx.peer, Fixture::Batch("hikari-1-pc", leave, {{2, leave}}, Tok('1')), leave).ok());
  int arrivals = 0, departures = 0;
  for (const auto& m : fx.Mail()) {
    if (m.guardian != t.guardian) continue;
    (m.kind == store::OutboxKind::kArrival ? arrivals : departures)++;
  }
  CHECK(arrivals == 0);
  CHECK(departures == 1);
}

TEST_CASE("a retried batch is acknowledged without a second decision or mail", "[ingest]") {
  Fixture fx;
  const TimePoint arrive = T("2026-11-26T15:02:00+09:00");
  auto batch = Fixture::Batch("hikari-1-pc", arrive, {{1, arrive}}, Tok('1'));
  REQUIRE(fx.Ingest(fx.peer, batch, arrive + Seconds(1)).ok());
  auto again = fx.Ingest(fx.peer, batch, arrive + Seconds(30));
  REQUIRE(again.ok());
  CHECK(again->acked_through == 1);
  CHECK(fx.Taps("hikari-1-pc").size() == 1);
  CHECK(fx.Mail().size() == 1);
  std::string metrics = fx.Metrics();
  CHECK(metrics.find("anshin_taps_resent_total 1\n") != std::string::npos);
  CHECK(metrics.find("anshin_taps_judged_total{reason=\"arrival\"} 1\n") != std::string::npos);
}

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_CASE("an identical re-sent tap is a retry even when the agent has a gap", "[ingest]") {
  Fixture fx;
  const TimePoint t = T("2026-11-26T15:02:00+09:00");
  auto first = Fixture::Batch(
      "hikari-1-pc", t, {{1, t}, {2, t + std::chrono::hours(3)}, {5, t + std::chrono::hours(4)}},
      Tok('1'));
  REQUIRE(fx.Ingest(fx.peer, first, t + std::chrono::hours(4)).ok());
  const std::size_t mails = fx.Mail().size();
  auto again = fx.Ingest(fx.peer, first, t + std::chrono::hours(4) + Seconds(5));
  REQUIRE(again.ok());
  CHECK(again->acked_through == 2);
  CHECK(again->gap == wire::SeqGap{3, 4});
  CHECK(fx.Taps("hikari-1-pc").size() == 3);
  CHECK(fx.Mail().size() == mails);
  std::string m = fx.Metrics();
  CHECK(Has(m, "anshin_taps_resent_total 3\n"));
  CHECK(Has(m, "anshin_ingest_seq_conflicts_total 0\n"));
}

TEST_CASE("a different tap under a stored seq is refused with 409 and nothing is committed",
          "[ingest]") {
  Fixture fx;
  const TimePoint arrive = T("2026-11-26T15:02:00+09:00"), leave = T("2026-11-26T17:45:00+09:00");
  REQUIRE(fx.Ingest(fx.peer,
                    Fixture::Batch("hikari-1-pc", leave, {{1, arrive}, {2, leave}}, Tok('1')),
                    leave)
              .ok());
  const auto before = fx.Taps("hikari-1-pc");
  const auto mail_before = fx.Mail();
  REQUIRE(mail_before.size() == 2);
  const auto agent_before = fx.Agent("hikari-1-pc");

  // The agent was reinstalled with an empty queue: it starts again at seq 1 the next day.
  const TimePoint next_day = T("2026-11-27T15:05:00+09:00");
  wire::TapBatch reset = Fixture::Batch("hikari-1-pc", next_day, {{1, next_day}}, Tok('1'));
  wire::Health h;
  h.queue_depth = 1;
  reset.health = h;
  auto r = fx.Ingest(fx.peer, reset, next_day);
  REQUIRE(r.status().code() == Status::Code::kConflict);
  CHECK(r.status().message() ==
        "taps[0].seq: 1 was already used by this agent for another tap; the agent's queue was "
        "reset — enrol it under a new name or contact the operator");

  // Each compared field on its own makes the tap another tap.
  wire::Tap same = Fixture::Batch("hikari-1-pc", leave, {{2, leave}}, Tok('1')).taps[0];
  std::vector<wire::Tap> variants(4, same);
  variants[0].card = Tok('2');
  variants[1].at = leave + Millis(1);
  variants[2].reader = "back-door";
  variants[3].direction = Direction::kExit;
  for (const wire::Tap& v : variants) {
    wire::TapBatch b;
    b.agent = "hikari-1-pc";
    b.sent_at = next_day;
    b.taps = {v};
    auto refused = fx.Ingest(fx.peer, b, next_day);
    CHECK(refused.status().code() == Status::Code::kConflict);
    CHECK(Has(refused.status().message(), "taps[0].seq: 2 was already used"));
  }

  // Earlier data is intact: same taps and decisions, no mail, the agent's record untouched
  // (not even its contact time or health: the refused upload is rolled back whole).
  const auto after = fx.Taps("hikari-1-pc");
  REQUIRE(after.size() == before.size());
  for (std::size_t i = 0; i < after.size(); ++i) {
    CHECK(after[i].seq == before[i].seq);
    CHECK(after[i].tapped_at == before[i].tapped_at);
    CHECK(after[i].reason == before[i].reason);
  }
  CHECK(fx.Mail().size() == mail_before.size());
  const auto agent_after = fx.Agent("hikari-1-pc");
  CHECK(agent_after.acked_through == 2);
  CHECK(agent_after.last_contact == agent_before.last_contact);
  CHECK(agent_after.last_health_json == agent_before.last_health_json);
  std::string m = fx.Metrics();
  CHECK(Has(m, "anshin_ingest_seq_conflicts_total 5\n"));
  CHECK(Has(m, "anshin_ingest_batches_refused_total 5\n"));
  CHECK(Has(m, "anshin_taps_resent_total 0\n"));
  CHECK(Has(m, "# TYPE anshin_ingest_seq_conflicts_total counter\n"));

  // The identical retry is still acknowledged.
  auto retry = fx.Ingest(
      fx.peer, Fixture::Batch("hikari-1-pc", leave, {{1, arrive}, {2, leave}}, Tok('1')), leave);
  REQUIRE(retry.ok());
  CHECK(retry->acked_through == 2);
  CHECK(fx.Mail().size() == mail_before.size());
}

TEST_CASE("a batch with new seqs after a reused one is refused whole", "[ingest]") {
  Fixture fx;
  const TimePoint t = T("2026-11-26T15:02:00+09:00");
  REQUIRE(fx.Ingest(fx.peer,
                    Fixture::Batch("hikari-1-pc", t, {{1, t}, {2, t + std::chrono::hours(3)}},
                                   Tok('1')),
                    t + std::chrono::hours(3))
              .ok());
  const std::size_t mails = fx.Mail().size();

  // A restored backup: seq 1 is the same tap, seq 2 is not, 3 and 4 are new.
  const TimePoint later = t + std::chrono::hours(3) + Minutes(1);
  auto mixed = Fixture::Batch(
      "hikari-1-pc", later, {{1, t}, {2, later}, {3, later + Minutes(1)}, {4, later + Minutes(2)}},
      Tok('1'));
  auto r = fx.Ingest(fx.peer, mixed, later + Minutes(2));
  REQUIRE(r.status().code() == Status::Code::kConflict);
  CHECK(Has(r.status().message(), "taps[1].seq: 2 was already used by this agent"));
  CHECK(fx.Taps("hikari-1-pc").size() == 2);
  CHECK(fx.Mail().size() == mails);
  CHECK(fx.Agent("hikari-1-pc").acked_through == 2);

  // With a gap (3..4 missing, 5 stored) the lookup path catches a reused seq after the gap.
  REQUIRE(
      fx.Ingest(fx.peer, Fixture::Batch("hikari-1-pc", later, {{5, later}}, Tok('9')), later).ok());
  REQUIRE(fx.Agent("hikari-1-pc").gap == wire::SeqGap{3, 4});
  auto after_gap = fx.Ingest(
      fx.peer,
      Fixture::Batch("hikari-1-pc", later, {{3, later}, {5, later + Seconds(1)}}, Tok('9')), later);
  REQUIRE(after_gap.status().code() == Status::Code::kConflict);
  CHECK(Has(after_gap.status().message(), "taps[1].seq: 5 "));
  CHECK(fx.Taps("hikari-1-pc").size() == 3);  // seq 3 was not kept either
  CHECK(fx.Agent("hikari-1-pc").acked_through == 2);
}

TEST_CASE("a gap in seq is reported and acked_through stays contiguous", "[ingest]") {
  Fixture fx;
  const TimePoint t = T("2026-11-26T15:02:00+09:00");
  auto ack =
      fx.Ingest(fx.peer,
                Fixture::Batch("hikari-1-pc", t,
                               {{1, t}, {2, t + Seconds(200)}, {5, t + Seconds(400)}}, Tok('9')),
                t);
  REQUIRE(ack.ok());
  CHECK(ack->acked_through == 2);
  REQUIRE(ack->gap);
  CHECK(*ack->gap == wire::SeqGap{3, 4});
  CHECK(fx.Agent("hikari-1-pc").gap == wire::SeqGap{3, 4});
  CHECK(fx.Taps("hikari-1-pc").size() == 3);

  auto fill = fx.Ingest(fx.peer, Fixture::Batch("hikari-1-pc", t, {{3, t}, {4, t}}, Tok('9')), t);
  REQUIRE(fill.ok());
  CHECK(fill->acked_through == 5);
  CHECK_FALSE(fill->gap);
  CHECK_FALSE(fx.Agent("hikari-1-pc").gap);
}

TEST_CASE("an upload with only health updates the agent's contact and health", "[ingest]") {
  Fixture fx;
  const TimePoint t = T("2026-11-26T15:02:00+09:00");
  wire::TapBatch b;
  b.agent = "hikari-1-pc";
  b.sent_at = t;
  wire::Health h;
  h.reader_state = "error";
  h.reader_error = "device not found";
  h.queue_depth = 3;
  b.health = h;
  auto ack = fx.Ingest(fx.peer, b, t);
  REQUIRE(ack.ok());
  CHECK(ack->acked_through == 0);
  auto agent = fx.Agent("hikari-1-pc");
  CHECK(agent.last_contact == t);
  CHECK(wire::ParseHealth(agent.last_health_json).value() == h);
  CHECK_FALSE(agent.skew_flagged());
}

TEST_CASE("/metrics shows each facility from its PCs' last reports, and open alerts by kind",
          "[ingest]") {
  Fixture fx;
  const TimePoint t = T("2026-11-26T15:02:00+09:00");  // a Thursday, within 13:00-19:00
  wire::TapBatch b;
  b.agent = "hikari-1-pc";
  b.sent_at = t;
  wire::Health h;
  h.reader_state = "error";
  h.queue_depth = 3;
  h.unknown_taps = 2;
  b.health = h;
  REQUIRE(fx.Ingest(fx.peer, b, t).ok());
  fx.clock->Set(t + Seconds(90));
  const std::string m = fx.Metrics();
  CHECK_THAT(m, Catch::Contains(
                    "anshin_facility_last_contact_age_seconds{facility=\"hikari-1\"} 90.000000"));
  CHECK_THAT(m, Catch::Contains("anshin_facility_reader_ok{facility=\"hikari-1\"} 0"));
  CHECK_THAT(m, Catch::Contains("anshin_facility_queue_depth{facility=\"hikari-1\"} 3"));
  CHECK_THAT(m, Catch::Contains("anshin_facility_unknown_taps{facility=\"hikari-1\"} 2"));
  CHECK_THAT(m, Catch::Contains("anshin_facility_open{facility=\"hikari-1\"} 1"));
  CHECK_THAT(m, Catch::Contains("anshin_facility_open{facility=\"hikari-2\"} 1"));
  // hikari-2's PC never reported: no figure that would pass for a current one.
  CHECK_THAT(m, !Catch::Contains("anshin_facility_reader_ok{facility=\"hikari-2\"}"));
  CHECK_THAT(m,
             !Catch::Contains("anshin_facility_last_contact_age_seconds{facility=\"hikari-2\"}"));
  CHECK_THAT(m, Catch::Contains("anshin_alerts_open{kind=\"lost_card_seen\"} 0"));
  CHECK_THAT(m, Catch::Contains("anshin_alerts_open{kind=\"not_arrived\"} 0"));  // every kind
  CHECK_THAT(m, Catch::Contains("anshin_alerts_open{kind=\"clock_skew\"} 0"));
  fx.clock->Set(T("2026-11-26T20:00:00+09:00"));
  CHECK_THAT(fx.Metrics(), Catch::Contains("anshin_facility_open{facility=\"hikari-1\"} 0"));
  fx.clock->Set(T("2026-11-29T15:00:00+09:00"));  // a Sunday
  CHECK_THAT(fx.Metrics(), Catch::Contains("anshin_facility_open{facility=\"hikari-1\"} 0"));
}

TEST_CASE("an upload without health leaves no earlier report standing as current", "[ingest]") {
  Fixture fx;
  const TimePoint t = T("2026-11-26T15:02:00+09:00");
  wire::TapBatch b;
  b.agent = "hikari-1-pc";
  b.sent_at = t;
  wire::Health h;
  h.reader_state = "error";
  h.queue_depth = 3;
  b.health = h;
  REQUIRE(fx.Ingest(fx.peer, b, t).ok());
  CHECK_FALSE(fx.Agent("hikari-1-pc").last_health_json.empty());
  b.health.reset();
  b.sent_at = t + std::chrono::hours(3);
  REQUIRE(fx.Ingest(fx.peer, b, t + std::chrono::hours(3)).ok());
  const store::Agent a = fx.Agent("hikari-1-pc");
  CHECK(a.last_contact == t + std::chrono::hours(3));
  CHECK(a.last_health_json.empty());
  fx.clock->Set(t + std::chrono::hours(3));
  CHECK_THAT(fx.Metrics(), !Catch::Contains("anshin_facility_queue_depth{facility=\"hikari-1\"}"));
}

TEST_CASE("each upload's clock skew is sampled: every 10 minutes, or at once when it moves",
          "[ingest]") {
  Fixture fx;
  const TimePoint t = T("2026-11-26T15:02:00+09:00");
  auto upload = [&](TimePoint received, Millis skew) {
    wire::TapBatch b;
    b.agent = "hikari-1-pc";
    b.sent_at = received + skew;
    REQUIRE(fx.Ingest(fx.peer, b, received).ok());
  };
  upload(t, Millis(200));                    // first: recorded
  upload(t + Minutes(1), Millis(900));       // moved 0.7 s, 1 min later: not
  upload(t + Minutes(2), Millis(1300));      // moved 1.1 s since the last sample: recorded
  upload(t + Minutes(5), Millis(1400));      // not
  upload(t + Minutes(12), Millis(1400));     // 10 min after the last sample: recorded
  upload(t + Minutes(13), Millis(-150000));  // a clock stepped back: recorded at once
  const AgentId id = fx.Agent("hikari-1-pc").id;
  auto samples = store::InRead(*fx.real, [&](store::ReadTxn& txn) {
                   return txn.agents().SkewSamples(id, t - Minutes(1));
                 }).value();
  CHECK(samples ==
        std::vector<store::SkewSample>{
            {t, 200}, {t + Minutes(2), 1300}, {t + Minutes(12), 1400}, {t + Minutes(13), -150000}});
  CHECK(fx.Agent("hikari-1-pc").skew_ms == -150000);
  // Another agent's samples are its own.
  CHECK(store::InRead(*fx.real,
                      [&](store::ReadTxn& txn) {
                        return txn.agents().SkewSamples(fx.Agent("hikari-1-pc2").id,
                                                        t - Minutes(1));
                      })
            .value()
            .empty());
}

TEST_CASE("/metrics shows each agent's certificate expiry", "[ingest]") {
  Fixture fx;
  const TimePoint now = T("2026-11-26T15:00:00+09:00");
  REQUIRE(
      store::InWrite(*fx.real, [&](store::WriteTxn& txn) -> Status {
        ANSHIN_RETURN_IF_ERROR(txn.agents().SetCertificate(
            fx.Agent("hikari-1-pc").id, std::string(64, 'a'), now + std::chrono::hours(24 * 20)));
        ANSHIN_RETURN_IF_ERROR(txn.agents().SetCertificate(
            fx.Agent("hikari-2-pc").id, std::string(64, 'c'), now - std::chrono::hours(1)));
        return txn.agents().SetStatus(fx.Agent("hikari-2-pc").id, store::AgentStatus::kDisabled);
      }).ok());
  const std::string m = fx.Metrics();
  CHECK_THAT(m, Catch::Contains("# TYPE anshin_agent_cert_expiry_seconds gauge\n"));
  CHECK_THAT(m, Catch::Contains("anshin_agent_cert_expiry_seconds{agent=\"hikari-1-pc\","
                                "facility=\"hikari-1\"} 1728000.000000\n"));
  // A disabled agent's certificate still counts (it may be enabled again); expired: negative.
  CHECK_THAT(m, Catch::Contains("anshin_agent_cert_expiry_seconds{agent=\"hikari-2-pc\","
                                "facility=\"hikari-2\"} -3600.000000\n"));
  // Expiry not known (enrolled before it was recorded): no sample.
  CHECK_THAT(m, !Catch::Contains("agent=\"hikari-1-pc2\""));
  REQUIRE(store::InWrite(*fx.real, [&](store::WriteTxn& txn) {
            return txn.agents().SetStatus(fx.Agent("hikari-1-pc").id, store::AgentStatus::kRevoked);
          }).ok());
  CHECK_THAT(fx.Metrics(), !Catch::Contains("agent=\"hikari-1-pc\""));
}

TEST_CASE("a batch whose seqs are not ascending is refused", "[ingest]") {
  Fixture fx;
  const TimePoint t = T("2026-11-26T15:02:00+09:00");
  auto r = fx.Ingest(fx.peer, Fixture::Batch("hikari-1-pc", t, {{2, t}, {1, t}}, Tok('1')), t);
  CHECK(r.status().code() == Status::Code::kInvalidArgument);
  CHECK(r.status().message().find("taps[1].seq") != std::string::npos);
  CHECK(fx.Taps("hikari-1-pc").empty());
}

TEST_CASE("unknown, mismatched, disabled and revoked agents are refused", "[ingest]") {
  Fixture fx;
  const TimePoint t = T("2026-11-26T15:02:00+09:00");
  auto batch = Fixture::Batch("nobody", t, {{1, t}}, Tok('1'));
  CHECK(fx.Ingest({"nobody", std::string(64, 'a')}, batch, t).status().code() ==
        Status::Code::kUnauthenticated);
  batch.agent = "hikari-1-pc";
  CHECK(fx.Ingest({"hikari-1-pc", std::string(64, 'f')}, batch, t).status().code() ==
        Status::Code::kUnauthenticated);
  REQUIRE(fx.seed.agents.SetStatus("hikari-1-pc", store::AgentStatus::kDisabled, fx.who).ok());
  CHECK(fx.Ingest(fx.peer, batch, t).status().code() == Status::Code::kPermissionDenied);
  REQUIRE(fx.seed.agents.SetStatus("hikari-1-pc", store::AgentStatus::kRevoked, fx.who).ok());
  CHECK(fx.Ingest(fx.peer, batch, t).status().code() == Status::Code::kPermissionDenied);
  CHECK(fx.Taps("hikari-1-pc").empty());

  CHECK(fx.Allowlist(fx.peer, 0).status().code() == Status::Code::kPermissionDenied);
}

TEST_CASE("a body naming another agent gets one answer, wherever that agent exists", "[ingest]") {
  // Defect: 409 for an agent of another facility and 403 otherwise let an enrolled agent learn
  // which agent names exist elsewhere.
  Fixture fx;
  const TimePoint t = T("2026-11-26T15:02:00+09:00");
  REQUIRE(fx.Ingest(fx.peer, Fixture::Batch("hikari-1-pc", t, {{1, t}}, Tok('1')), t).ok());
  std::vector<Status> answers;
  for (const char* named : {"hikari-2-pc", "hikari-1-pc2", "ghost"}) {
    answers.push_back(fx.Ingest(fx.peer, Fixture::Batch(named, t, {{2, t}}, Tok('1')), t).status());
  }
  for (const Status& s : answers) {
    CHECK(s.code() == Status::Code::kPermissionDenied);
    CHECK(s == answers[0]);  // same code, same text
    CHECK(s.message().find("hikari-2") == std::string::npos);
  }
  // Earlier data is intact and nothing was stored for the refused batches.
  CHECK(fx.Taps("hikari-1-pc").size() == 1);
  CHECK(fx.Taps("hikari-2-pc").empty());
  CHECK(fx.Mail().size() == 1);
}

TEST_CASE("commit failure: every waiting upload gets 503 and nothing is lost", "[ingest]") {
  Fixture fx;
  // Hold the writer so that several uploads queue up and are committed as one group.
  const TimePoint t = T("2026-11-26T15:02:00+09:00");
  std::vector<wire::TapBatch> batches;
  std::vector<server::Peer> peers;
  for (int c = 0; c < 6; ++c) {
    const std::string name = "group-" + std::to_string(c);
    fx.AddAgent(name, fx.facility, std::string(64, 'e'));
    char hex[33];
    std::snprintf(hex, sizeof hex, "%032x", 0x2000 + c);
    CardToken card = CardToken::Parse(hex).value();
    ChildId kid = fx.AddChild("練馬 はると", fx.facility, card);
    fx.seed.VerifiedGuardian(kid, "group" + std::to_string(c) + "@example.jp");
    batches.push_back(Fixture::Batch(name, t, {{1, t}, {2, t + Minutes(5)}}, card));
    peers.push_back(server::Peer{name, std::string(64, 'e')});
  }
  std::vector<std::future<Result<wire::TapAck>>> answers;
  {
    auto hold = fx.store.BeginWrite().value();  // the writer is busy until this goes
    // Ours is the 1st commit. The writer may have taken the first upload alone before the rest
    // queued, so the uploads are committed in one or two groups: both fail.
    fx.store.FailCommit(2, 2);
    for (std::size_t i = 0; i < batches.size(); ++i) {
      auto p = std::make_shared<std::promise<Result<wire::TapAck>>>();
      answers.push_back(p->get_future());
      fx.services->IngestTaps(peers[i], batches[i], t,
                              [p](Result<wire::TapAck> r) { p->set_value(std::move(r)); });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // all six queue behind us
    REQUIRE(hold->Commit().ok());
  }
  int refused = 0;
  for (auto& a : answers) {
    Result<wire::TapAck> r = a.get();
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Status::Code::kUnavailable);
    CHECK(HttpStatusOf(r.status().code()) == 503);
    CHECK(r.status().message().find("SAVEPOINT") == std::string::npos);
    ++refused;
  }
  CHECK(refused == 6);
  const int groups = fx.store.failed_commits();
  CHECK(groups >= 1);
  CHECK(groups <= 2);
  std::string m = fx.Metrics();
  CHECK(m.find("anshin_ingest_commit_failures_total " + std::to_string(groups) + "\n") !=
        std::string::npos);
  fx.store.Heal();
  for (const auto& p : peers) CHECK(fx.Taps(p.agent_name).empty());  // nothing half-written
  const std::size_t mails_before = fx.Mail().size();
  CHECK(mails_before == 0);

  // The agents kept their taps and retry: everything is stored exactly once.
  for (std::size_t i = 0; i < batches.size(); ++i) {
    auto ack = fx.Ingest(peers[i], batches[i], t + Seconds(5));
    REQUIRE(ack.ok());
    CHECK(ack->acked_through == 2);
    CHECK(fx.Taps(peers[i].agent_name).size() == 2);
  }
  CHECK(fx.Mail().size() == 6 * 2);  // one arrival and one departure per child, once
  m = fx.Metrics();
  CHECK(m.find("anshin_taps_resent_total 0\n") != std::string::npos);
}

TEST_CASE("commit failure: an upload that could not start its transaction is refused, not lost",
          "[ingest]") {
  Fixture fx;
  const TimePoint t = T("2026-11-26T15:02:00+09:00");
  fx.store.FailBeginWrite(1);
  auto r = fx.Ingest(fx.peer, Fixture::Batch("hikari-1-pc", t, {{1, t}}, Tok('1')), t);
  CHECK(r.status().code() == Status::Code::kUnavailable);
  CHECK(fx.Taps("hikari-1-pc").empty());
  auto again = fx.Ingest(fx.peer, Fixture::Batch("hikari-1-pc", t, {{1, t}}, Tok('1')), t);
  REQUIRE(again.ok());
  CHECK(fx.Taps("hikari-1-pc").size() == 1);
  CHECK(fx.Mail().size() == 1);
}

TEST_CASE("a PC 7 minutes fast has its taps corrected and its skew flagged", "[ingest]") {
  Fixture fx;
  // Really tapped at 16:25 (before departure_from 16:30: an arrival); the PC says 16:32.
  const TimePoint real = T("2026-11-26T16:25:00+09:00");
  const Millis fast = Minutes(7);
  const TimePoint received = real + Seconds(2);
  auto ack = fx.Ingest(fx.peer,
                       Fixture::Batch("hikari-1-pc", received + fast, {{1, real + fast}}, Tok('1')),
                       received);
  REQUIRE(ack.ok());
  auto taps = fx.Taps("hikari-1-pc");
  REQUIRE(taps.size() == 1);
  CHECK(taps[0].tapped_at == real + fast);
  CHECK(taps[0].corrected_at == real);
  CHECK(taps[0].reason == Reason::kArrival);
  CHECK_FALSE(taps[0].late);
  auto agent = fx.Agent("hikari-1-pc");
  CHECK(agent.skew_ms == 7 * 60 * 1000);
  CHECK(agent.skew_flagged());
  REQUIRE(fx.Mail().size() == 1);
  CHECK(fx.Mail()[0].tap_at == real);
}

TEST_CASE("a child visiting another hall is judged for the agent's facility", "[ingest]") {
  Fixture fx;
  ChildId visitor = fx.AddChild("visitor", fx.other_facility, Tok('2'));
  const TimePoint t = T("2026-11-26T15:10:00+09:00");
  REQUIRE(fx.Ingest(fx.peer, Fixture::Batch("hikari-1-pc", t, {{1, t}}, Tok('2')), t).ok());
  auto taps = fx.Taps("hikari-1-pc");
  REQUIRE(taps.size() == 1);
  CHECK(taps[0].child == visitor);
  CHECK(taps[0].facility == fx.facility);
  CHECK(taps[0].reason == Reason::kArrival);
}

TEST_CASE("lost and unknown cards send no mail, a lost card raises an alert", "[ingest]") {
  Fixture fx;
  REQUIRE(fx.seed.cards.MarkLost(Tok('1'), fx.who).ok());
  const TimePoint t = T("2026-11-26T15:10:00+09:00");
  wire::TapBatch b = Fixture::Batch("hikari-1-pc", t, {{1, t}}, Tok('1'));
  b.taps.push_back(wire::Tap{2, Tok('7'), t + Seconds(1), "entrance", Direction::kAuto});
  REQUIRE(fx.Ingest(fx.peer, b, t).ok());
  auto taps = fx.Taps("hikari-1-pc");
  REQUIRE(taps.size() == 2);
  CHECK(taps[0].reason == Reason::kLostCard);
  CHECK(taps[1].reason == Reason::kUnknownCard);
  CHECK_FALSE(taps[1].child);
  CHECK(fx.Mail().empty());
  auto alerts = fx.OpenAlerts();
  REQUIRE(alerts.size() == 1);
  CHECK(alerts[0].kind == AlertKind::kLostCardSeen);
  CHECK(alerts[0].facility == fx.facility);
}

TEST_CASE("a tap made before the card was marked lost is judged by the status it had then",
          "[ingest]") {
  Fixture fx;
  const TimePoint tapped = T("2026-11-26T15:10:00+09:00");
  const TimePoint marked_lost = T("2026-11-26T15:30:00+09:00");
  const TimePoint after_lost = T("2026-11-26T17:50:00+09:00");
  REQUIRE(fx.seed.cards.MarkLost(Tok('1'), Actor{"callcenter", marked_lost}).ok());
  // The agent was offline: the 15:10 tap arrives after the card was reported lost, together
  // with a tap made after that.
  auto b = Fixture::Batch("hikari-1-pc", after_lost, {{1, tapped}, {2, after_lost}}, Tok('1'));
  REQUIRE(fx.Ingest(fx.peer, b, after_lost).ok());
  auto taps = fx.Taps("hikari-1-pc");
  REQUIRE(taps.size() == 2);
  CHECK(taps[0].reason == Reason::kArrival);
  CHECK(taps[1].reason == Reason::kLostCard);
  auto mail = fx.Mail();
  REQUIRE(mail.size() == 1);
  CHECK(mail[0].kind == store::OutboxKind::kArrival);
  CHECK(mail[0].tap_at == tapped);
  CHECK(mail[0].late);
  auto alerts = fx.OpenAlerts();
  REQUIRE(alerts.size() == 1);  // for the 17:50 tap only
  CHECK(alerts[0].kind == AlertKind::kLostCardSeen);
  CHECK(alerts[0].at == after_lost);
}

TEST_CASE("an old tap of a replaced card is mailed, the card's later taps are refused",
          "[ingest]") {
  Fixture fx;
  const TimePoint tapped = T("2026-11-26T15:10:00+09:00");
  const TimePoint replaced = T("2026-11-26T15:30:00+09:00");
  const TimePoint later = T("2026-11-26T17:50:00+09:00");
  REQUIRE(fx.seed.cards.Assign(fx.child, Tok('2'), Actor{"callcenter", replaced}).ok());
  auto b = Fixture::Batch("hikari-1-pc", later, {{1, tapped}, {2, later}}, Tok('1'));
  REQUIRE(fx.Ingest(fx.peer, b, later).ok());
  auto taps = fx.Taps("hikari-1-pc");
  REQUIRE(taps.size() == 2);
  CHECK(taps[0].reason == Reason::kArrival);
  CHECK(taps[1].reason == Reason::kRetiredCard);
  CHECK(fx.Mail().size() == 1);
  CHECK(fx.OpenAlerts().empty());
}

TEST_CASE("a withdrawn child's card leaves the allowlist and its later tap sends no mail",
          "[ingest]") {
  Fixture fx;
  const TimePoint withdrawn = T("2026-11-26T15:30:00+09:00");
  const TimePoint later = T("2026-11-26T17:50:00+09:00");
  REQUIRE(fx.seed.children.Withdraw(fx.child, withdrawn, Actor{"operator", withdrawn}).value() ==
          1);
  auto listed = fx.Allowlist(fx.peer, 0);
  REQUIRE(listed.ok());
  REQUIRE(listed->full);
  for (const auto& token : listed->added) CHECK(token != Tok('1'));
  auto b = Fixture::Batch("hikari-1-pc", later, {{1, later}}, Tok('1'));
  REQUIRE(fx.Ingest(fx.peer, b, later).ok());
  auto taps = fx.Taps("hikari-1-pc");
  REQUIRE(taps.size() == 1);
  CHECK(taps[0].reason == Reason::kRetiredCard);
  CHECK(fx.Mail().empty());
  CHECK(fx.OpenAlerts().empty());
}

TEST_CASE("the closing check raises one no-departure alert per open visit", "[ingest]") {
  Fixture fx;
  const TimePoint t = T("2026-11-26T15:10:00+09:00");
  REQUIRE(fx.Ingest(fx.peer, Fixture::Batch("hikari-1-pc", t, {{1, t}}, Tok('1')), t).ok());
  CHECK(fx.closing->Run(T("2026-11-26T19:00:00+09:00")).value().empty());  // not due yet
  auto alerts = fx.closing->Run(T("2026-11-26T19:16:00+09:00")).value();
  REQUIRE(alerts.size() == 1);
  CHECK(alerts[0].kind == AlertKind::kNoDeparture);
  CHECK(alerts[0].child == fx.child);
  CHECK(fx.closing->Run(T("2026-11-26T19:30:00+09:00")).value().empty());
  CHECK(fx.OpenAlerts().size() == 1);
}

TEST_CASE("the allowlist is served to authenticated agents", "[ingest]") {
  Fixture fx;
  auto d = fx.Allowlist(fx.peer, 0);
  REQUIRE(d.ok());
  CHECK(d->full);
  REQUIRE(d->added.size() == 1);
  CHECK(d->added[0] == Tok('1'));
  CHECK(d->lost.empty());
}

TEST_CASE("the allowlist flags a lost card, and unflags it once found", "[ingest]") {
  Fixture fx;
  std::uint64_t before = fx.AllowlistVersion();
  REQUIRE(fx.seed.cards.MarkLost(Tok('1'), fx.who).ok());
  auto delta = fx.Allowlist(fx.peer, before);
  REQUIRE(delta.ok());
  CHECK_FALSE(delta->full);
  CHECK(delta->added == std::vector<CardToken>{Tok('1')});
  CHECK(delta->lost == std::vector<CardToken>{Tok('1')});
  auto full = fx.Allowlist(fx.peer, 0);
  REQUIRE(full.ok());
  CHECK(full->full);
  CHECK(full->lost == std::vector<CardToken>{Tok('1')});

  std::uint64_t lost_at = fx.AllowlistVersion();
  REQUIRE(fx.seed.cards.MarkFound(Tok('1'), fx.who).ok());
  auto found = fx.Allowlist(fx.peer, lost_at);
  REQUIRE(found.ok());
  CHECK(found->added == std::vector<CardToken>{Tok('1')});
  CHECK(found->lost.empty());
  CHECK(fx.Allowlist(fx.peer, 0)->lost.empty());
}

TEST_CASE("group commit: many concurrent callers are all acknowledged, each tap stored once",
          "[ingest]") {
  Fixture fx;
  constexpr int kClients = 64, kBatches = 10, kTaps = 20;
  for (int c = 0; c < kClients; ++c)
    fx.AddAgent("load-" + std::to_string(c), fx.facility, std::string(64, 'd'));
  std::vector<CardToken> cards;
  for (int c = 0; c < kClients; ++c) {
    char hex[33];
    std::snprintf(hex, sizeof hex, "%032x", 0x1000 + c);
    cards.push_back(CardToken::Parse(hex).value());
    fx.AddChild("load child", fx.facility, cards.back());
  }
  const TimePoint t0 = T("2026-11-26T14:00:00+09:00");
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      server::Peer p{"load-" + std::to_string(c), std::string(64, 'd')};
      std::uint64_t seq = 0;
      for (int b = 0; b < kBatches; ++b) {
        wire::TapBatch batch;
        batch.agent = p.agent_name;
        batch.sent_at = t0;
        for (int i = 0; i < kTaps; ++i) {
          ++seq;
          batch.taps.push_back(wire::Tap{seq, cards[c], t0 + Seconds(static_cast<int>(seq) * 10),
                                         "entrance", Direction::kAuto});
        }
        auto ack = fx.Ingest(p, batch, t0);
        if (!ack.ok() || ack->acked_through != seq) ++failures;
        if (b == 3) {  // a retry in the middle of the stream
          auto again = fx.Ingest(p, batch, t0);
          if (!again.ok() || again->acked_through != seq) ++failures;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  for (int c = 0; c < kClients; ++c) {
    auto taps = fx.Taps("load-" + std::to_string(c));
    REQUIRE(taps.size() == kBatches * kTaps);
    for (std::size_t i = 0; i < taps.size(); ++i) CHECK(taps[i].seq == i + 1);
  }
  std::string m = fx.Metrics();
  CHECK(m.find("anshin_taps_resent_total " + std::to_string(kClients * kTaps)) !=
        std::string::npos);
  CHECK(m.find("anshin_ingest_batches_total " + std::to_string(kClients * (kBatches + 1))) !=
        std::string::npos);
}

TEST_CASE("metrics are Prometheus text with HELP and TYPE lines", "[ingest]") {
  Fixture fx;
  const TimePoint t = T("2026-11-26T15:02:00+09:00");
  REQUIRE(fx.Ingest(fx.peer,
                    Fixture::Batch("hikari-1-pc", t, {{1, t}, {2, t + Minutes(5)}}, Tok('9')), t)
              .ok());
  std::string m = fx.Metrics();
  CHECK(m.find("anshin_ingest_upload_taps_bucket{le=\"1\"} 0\n") != std::string::npos);
  CHECK(m.find("anshin_ingest_upload_taps_bucket{le=\"2\"} 1\n") != std::string::npos);
  CHECK(m.find("anshin_ingest_upload_taps_sum 2\n") != std::string::npos);
  CHECK(m.find("anshin_ingest_commit_batches_count 1\n") != std::string::npos);
  CHECK(m.find("anshin_taps_judged_total{reason=\"unknown_card\"} 2\n") != std::string::npos);
  CHECK(m.find("anshin_agents_seen 1\n") != std::string::npos);
  // The fixture claimed the two verification mails: they are still "sending".
  CHECK(m.find("anshin_outbox_depth 2\n") != std::string::npos);
  for (const char* name :
       {"anshin_taps_received_total", "anshin_taps_judged_total", "anshin_outbox_depth",
        "anshin_outbox_oldest_age_seconds", "anshin_agents_seen", "anshin_ingest_commit_batches",
        "anshin_ingest_upload_taps"}) {
    CHECK(m.find(std::string("# HELP ") + name + ' ') != std::string::npos);
    CHECK(m.find(std::string("# TYPE ") + name + ' ') != std::string::npos);
  }
}

}  // namespace
}  // namespace anshin::ingest
