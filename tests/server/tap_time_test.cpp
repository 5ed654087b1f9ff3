// Impossible tap times (issue 12, defect 2): a tap whose time cannot be true — year 1, 1970,
// 9999, tomorrow, or an upload whose sent_at is days off the server's clock — is never judged
// and never mailed, and the plausible taps of the same upload still are. IngestService against a
// real SQLite store in a temp dir, with a fake clock.
#include <catch2/catch.hpp>
#include <future>

#include "notify-server/ingest/ingest_service.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "tests/fakes/fake_clock.hpp"
#include "tests/fakes/seed.hpp"
#include "tests/fakes/temp_dir.hpp"

namespace anshin::ingest {
namespace {

using namespace std::chrono_literals;

TimePoint T(const char* rfc3339) { return ParseRfc3339(rfc3339).value(); }
CardToken Tok(char c) { return CardToken::Parse(std::string(32, c)).value(); }

constexpr char kAgent[] = "hikari-1-pc";

struct Fixture {
  fakes::TempDir dir{"tap-time-test"};
  const TimePoint now = T("2026-12-02T17:46:00+09:00");
  std::shared_ptr<fakes::FakeClock> clock = std::make_shared<fakes::FakeClock>(now);
  std::unique_ptr<store::Store> store = [this] {
    store::SqliteOptions so;
    so.path = dir / "anshin.db";
    return std::unique_ptr<store::Store>(store::SqliteStore::Open(so).value());
  }();
  store::Actor who{"tester", T("2026-12-01T09:00:00+09:00")};
  fakes::Seed seed{*store, who};
  FacilityId facility = seed.Facility("hikari-1", "光が丘第一学童クラブ");
  ChildId child = seed.ChildWithCard("練馬 さくら", facility, Tok('1'));
  server::Peer peer{kAgent, std::string(64, 'a')};
  std::unique_ptr<IngestService> ingest;

  Fixture() {
    seed.Agent(kAgent, facility, std::string(64, 'a'));
    seed.VerifiedGuardian(child, "parent@example.jp");
    REQUIRE(store::InWrite(*store, [&](store::WriteTxn& t) {
              return t.outbox().Claim(100, who.at);  // the verification mail is not looked at
            }).ok());
    IngestOptions o;
    o.clock = clock;
    o.zones = fakes::FixedJst();
    ingest = std::make_unique<IngestService>(*store, o);
  }

  Result<wire::TapAck> Ingest(TimePoint sent_at,
                              std::vector<std::pair<std::uint64_t, TimePoint>> taps) {
    wire::TapBatch b;
    b.agent = kAgent;
    b.sent_at = sent_at;
    for (auto& [seq, at] : taps)
      b.taps.push_back(wire::Tap{seq, Tok('1'), at, "entrance", Direction::kAuto});
    std::promise<Result<wire::TapAck>> promise;
    ingest->IngestTaps(peer, std::move(b), now,
                       [&promise](Result<wire::TapAck> r) { promise.set_value(std::move(r)); });
    return promise.get_future().get();
  }

  std::vector<store::TapRecord> Taps() {
    const AgentId id = seed.agents.Get(kAgent).value().id;
    return store::InRead(*store,
                         [&](store::ReadTxn& t) { return t.attendance().TapsOfAgent(id, 0, 1000); })
        .value();
  }
  std::vector<store::OutboxMessage> Mail() {
    std::vector<store::OutboxMessage> out;
    auto rows = store::InRead(*store, [](store::ReadTxn& t) {
                  return t.outbox().List(std::nullopt);
                }).value();
    for (auto& r : rows) {
      if (r.message.kind != store::OutboxKind::kVerification) out.push_back(r.message);
    }
    return out;
  }
};

TEST_CASE("a tap at an impossible time is stored but never judged or mailed",
          "[ingest][tap_time]") {
  const char* impossible = GENERATE("0001-01-01T00:00:00Z", "1970-01-01T00:00:00Z",
                                    "9999-12-31T23:59:59Z", "2026-12-03T17:40:00+09:00",
                                    "2026-12-02T18:30:00+09:00", "2025-06-01T15:00:00+09:00");
  CAPTURE(impossible);
  Fixture fx;
  const TimePoint arrive = T("2026-12-02T15:02:00+09:00"), leave = T("2026-12-02T17:45:00+09:00");
  auto ack = fx.Ingest(fx.now, {{1, arrive}, {2, T(impossible)}, {3, leave}});
  REQUIRE(ack.ok());
  CHECK(ack->acked_through == 3);  // nothing of the upload is lost: the agent may drop all three

  auto taps = fx.Taps();
  REQUIRE(taps.size() == 3);
  CHECK(taps[0].reason == Reason::kArrival);
  CHECK(taps[1].tapped_at == T(impossible));  // kept as sent, for staff
  CHECK(taps[1].reason == Reason::kImpossibleTime);
  CHECK(taps[1].child == fx.child);
  CHECK(taps[2].reason == Reason::kDeparture);
  // The ACK names the tap and why, as a 400 would name a field.
  REQUIRE(ack->rejected.size() == 1);
  CHECK(ack->rejected[0].seq == 2);
  CHECK(ack->rejected[0].field == "taps[1].at");
  CHECK_THAT(ack->rejected[0].error, Catch::StartsWith("taps[1].at: "));
  CHECK_THAT(ack->rejected[0].error,
             Catch::Contains("from the future") || Catch::Contains("before the upload arrived"));

  auto mail = fx.Mail();
  REQUIRE(mail.size() == 2);  // the arrival and the departure, nothing for the impossible tap
  CHECK(mail[0].tap_at == arrive);
  CHECK(mail[1].tap_at == leave);
}

TEST_CASE("a retried upload names its set-aside tap again and stores nothing twice",
          "[ingest][tap_time]") {
  Fixture fx;
  const TimePoint arrive = T("2026-12-02T15:02:00+09:00");
  const std::vector<std::pair<std::uint64_t, TimePoint>> taps = {{1, T("1970-01-01T00:00:00Z")},
                                                                 {2, arrive}};
  REQUIRE(fx.Ingest(fx.now, taps).ok());
  auto again = fx.Ingest(fx.now, taps);  // the first ACK was lost
  REQUIRE(again.ok());
  CHECK(again->acked_through == 2);
  REQUIRE(again->rejected.size() == 1);
  CHECK(again->rejected[0].seq == 1);
  CHECK(fx.Taps().size() == 2);
  CHECK(fx.Mail().size() == 1);
  // On the wire, each rejection carries the status a 400 would.
  const std::string body = wire::Serialize(*again);
  CHECK_THAT(body, Catch::Contains(R"("rejected":[{"error":"taps[0].at: )"));
  CHECK_THAT(body, Catch::Contains(R"("seq":1,"status":"invalid argument")"));
  auto parsed = wire::ParseTapAck(body);
  REQUIRE(parsed.ok());
  CHECK(parsed->rejected == again->rejected);
}

TEST_CASE("an upload whose sent_at is days off the server's clock mails nothing",
          "[ingest][tap_time]") {
  Fixture fx;
  // Ten days ahead or behind: a hand-set date, a dead CMOS battery. Whether the taps' times
  // were read from the same wrong clock or not, no correction by that skew can be trusted.
  const Millis off = GENERATE(Millis(240h), Millis(-240h));
  const bool same_clock = GENERATE(true, false);
  CAPTURE(off.count(), same_clock);
  const TimePoint at = T("2026-12-02T17:40:00+09:00") + (same_clock ? off : Millis(0));
  auto ack = fx.Ingest(fx.now + off, {{1, at}});
  REQUIRE(ack.ok());
  CHECK(ack->acked_through == 1);
  REQUIRE(fx.Taps().size() == 1);
  CHECK(fx.Taps()[0].reason == Reason::kImpossibleTime);
  CHECK(fx.Mail().empty());
  REQUIRE(ack->rejected.size() == 1);
  CHECK(ack->rejected[0].field == "sent_at");
  CHECK_THAT(ack->rejected[0].error, Catch::StartsWith("sent_at: the agent's clock is 10 days "));
}

TEST_CASE("tap time bounds: the edges", "[ingest][tap_time]") {
  const TapTimeBounds b;  // 24 h skew, 5 min ahead, 31 days back
  const TimePoint rx = T("2026-12-02T08:46:00Z");
  CHECK_FALSE(SkewProblem(24h, b));
  CHECK_FALSE(SkewProblem(-24h, b));
  CHECK(SkewProblem(24h + 1s, b));
  CHECK(SkewProblem(Millis(-24h) - 1s, b));
  CHECK_FALSE(TapTimeProblem("at", rx + 5min, Millis(0), rx, b));
  CHECK(TapTimeProblem("at", rx + 5min + 1s, Millis(0), rx, b));
  CHECK_FALSE(TapTimeProblem("at", rx - std::chrono::days(31), Millis(0), rx, b));
  CHECK(TapTimeProblem("at", rx - std::chrono::days(31) - 1s, Millis(0), rx, b));
  // A clock 9 h ahead (a zone set wrong): its times are corrected, then bounded.
  CHECK_FALSE(TapTimeProblem("at", rx + 9h - 1min, 9h, rx, b));
  CHECK_THAT(*TapTimeProblem("taps[0].at", rx + 10h, 9h, rx, b),
             Catch::Equals("taps[0].at: 2026-12-02T18:46:00Z is 1 h 0 min after the upload "
                           "arrived (corrected by the agent's clock skew of +9 h 0 min); a tap "
                           "cannot come from the future"));
}

TEST_CASE("plausible times still pass: a clock minutes off, a tap held for days",
          "[ingest][tap_time]") {
  Fixture fx;
  // The agent's clock runs 3 minutes fast: its times are corrected by the measured skew.
  const Millis fast = 3min;
  auto ack = fx.Ingest(fx.now + fast, {{1, T("2026-12-02T15:02:00+09:00") + fast}});
  REQUIRE(ack.ok());
  // A tap queued while the PC was offline for three days (late, but mailed).
  ack = fx.Ingest(fx.now, {{2, T("2026-11-29T15:10:00+09:00")}});
  REQUIRE(ack.ok());
  CHECK(ack->acked_through == 2);
  auto mail = fx.Mail();
  REQUIRE(mail.size() == 2);
  CHECK(mail[0].tap_at == T("2026-12-02T15:02:00+09:00"));
  CHECK(mail[1].tap_at == T("2026-11-29T15:10:00+09:00"));
  CHECK(mail[1].late);
}

}  // namespace
}  // namespace anshin::ingest
