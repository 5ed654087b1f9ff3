// The school year's turn and retention (services/rollover, services/retention) on a generated
// year of data: children in grades 1..6 across two facilities, taps, visits and mail spread over
// 14 months, withdrawn children older and newer than the grace period.
#include <catch2/catch.hpp>
#include <map>

#include "services/retention.hpp"
#include "services/rollover.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "tests/fakes/seed.hpp"
#include "tests/fakes/temp_dir.hpp"

namespace anshin::services {
namespace {

using store::Actor;

TimePoint T(const char* rfc3339) { return ParseRfc3339(rfc3339).value(); }
constexpr auto kDay = std::chrono::hours(24);
const TimeZone kJst = TimeZone::Fixed("Asia/Tokyo", 9 * 3600);
// "Now" of the purge: 2027-03-15 12:00 JST; 14 months of data before it.
const TimePoint kNow = T("2027-03-15T12:00:00+09:00");
const TimePoint kStart = kNow - kDay * 425;

struct Year {
  fakes::TempDir dir{"year-test"};
  std::unique_ptr<store::Store> store = [this] {
    store::SqliteOptions o;
    o.path = dir / "anshin.db";
    return std::unique_ptr<store::Store>(store::SqliteStore::Open(o).value());
  }();
  fakes::Seed seed{*store, Actor{"operator-1", kStart}};
  FacilityId hikari1 = seed.Facility("hikari1", "光が丘第一学童クラブ");
  FacilityId hikari2 = seed.Facility("hikari2", "光が丘第二学童クラブ");
  AgentId agent = seed.Agent("hikari1-pc", hikari1, std::string(64, 'a'));
  std::vector<ChildId> children;
  std::map<std::int64_t, int> grade_of;  // child id -> grade (0: none)
  int next_token = 0;

  ChildId AddChild(FacilityId f, std::optional<int> grade) {
    store::Child c;
    c.name = "練馬 " + std::to_string(children.size());
    c.facility = f;
    c.grade = grade;
    c.number = "2026-" + std::to_string(1000 + children.size());
    ChildId id = fakes::Must(seed.children.Add(c, seed.who), "child");
    std::string hex = std::to_string(100000 + next_token++);
    hex.resize(32, 'a');
    fakes::Must(seed.cards.Assign(id, CardToken::Parse(hex).value(), seed.who), "card");
    seed.VerifiedGuardian(id, "g" + std::to_string(id.value) + "@example.jp");
    children.push_back(id);
    grade_of[id.value] = grade.value_or(0);
    return id;
  }

  Year() {
    for (FacilityId f : {hikari1, hikari2}) {
      for (int grade = 1; grade <= 6; ++grade) {
        AddChild(f, grade);
        AddChild(f, grade);
      }
      AddChild(f, std::nullopt);
    }
  }

  // One tap, one visit day and one sent mail with its attempt per child and every 10th day.
  // Returns how many days fall before `cutoff`.
  int GenerateTraffic(TimePoint cutoff) {
    int old_days = 0;
    auto txn = store->BeginWrite().value();
    std::uint64_t seq = 0;
    for (TimePoint t = kStart + kDay; t < kNow; t += kDay * 10) {
      const bool old = t < cutoff;
      old_days += old ? 1 : 0;
      for (ChildId c : children) {
        store::TapRecord tap;
        tap.agent = agent;
        tap.seq = ++seq;
        tap.card = fakes::Token('1');
        tap.facility = hikari1;
        tap.reader = "entrance";
        tap.tapped_at = tap.corrected_at = tap.received_at = t;
        tap.reason = Reason::kArrival;
        tap.child = c;
        REQUIRE(txn->attendance().InsertTap(tap).ok());
        ChildDay day;
        day.date = kJst.DateOf(t);
        day.visits.push_back(Visit{t, t + std::chrono::hours(2)});
        REQUIRE(txn->attendance().SaveChildDay(c, hikari1, day).ok());
        const auto targets = txn->guardians().NoticeTargets(c, NoticeKind::kArrival).value();
        REQUIRE(targets.size() == 1);
        store::OutboxMessage m;
        m.guardian = targets[0];
        m.child = c;
        m.facility = hikari1;
        m.tap_at = t;
        m.created_at = t;
        std::int64_t id = txn->outbox().Insert(m).value();
        store::SendResult r;
        r.outbox_id = id;
        r.guardian = targets[0];
        r.at = t;
        r.smtp_code = 250;
        REQUIRE(txn->outbox().RecordAttempt(r).ok());
      }
    }
    REQUIRE(txn->Commit().ok());
    return old_days;
  }

  template <typename Fn>
  auto Read(Fn&& fn) {
    return store::InRead(*store, std::forward<Fn>(fn)).value();
  }
  std::size_t AuditSize() {
    return Read([](store::ReadTxn& t) { return t.audit().List(); }).size();
  }
  std::size_t AllowlistSize() {
    return Read([](store::ReadTxn& t) { return t.cards().AllowlistTokens(); }).size();
  }
};

RolloverOptions April(std::optional<FacilityId> facility = std::nullopt, int leave = 3) {
  RolloverOptions o;
  o.date = LocalDate{2027, 4, 1};
  o.at = kJst.At(o.date, LocalTime{0});
  o.facility = facility;
  o.leave_after_grade = leave;
  return o;
}

TEST_CASE("rollover promotes grades 1-5, withdraws the leaving grade and leaves no grade alone",
          "[year]") {
  Year y;
  const Actor who{"operator-1", kNow};
  REQUIRE(y.AllowlistSize() == 26);

  RolloverOptions dry = April();
  dry.dry_run = true;
  const std::size_t audit_before = y.AuditSize();
  RolloverCounts preview = Rollover(*y.store, dry, who).value();
  CHECK(preview.promoted == 16);  // grades 1, 2, 4, 5 at both facilities, 2 each
  CHECK(preview.withdrawn == 4);
  CHECK(preview.cards_retired == 4);
  CHECK(preview.no_grade == 2);
  CHECK(preview.kept == 4);              // grade 6 stays
  CHECK(y.AuditSize() == audit_before);  // the dry run wrote nothing
  CHECK(y.AllowlistSize() == 26);
  CHECK(y.Read([&](store::ReadTxn& t) { return t.children().Get(y.children[0]); }).grade == 1);

  RolloverCounts done = Rollover(*y.store, April(), who).value();
  CHECK(done.promoted == preview.promoted);
  CHECK(done.withdrawn == preview.withdrawn);
  CHECK_FALSE(done.already_ran);
  CHECK(y.AllowlistSize() == 22);
  for (ChildId id : y.children) {
    store::Child c = y.Read([&](store::ReadTxn& t) { return t.children().Get(id); });
    const int before = y.grade_of[id.value];
    if (before == 0) {
      CHECK_FALSE(c.grade);
    } else if (before == 3) {
      CHECK(c.status == store::ChildStatus::kWithdrawn);
      CHECK(c.withdrawn_at == std::optional<TimePoint>(April().at));
      CHECK(c.grade == 3);
      auto cards = y.Read([&](store::ReadTxn& t) { return t.cards().OfChild(id); });
      CHECK(cards.at(0).status == CardStatus::kRetired);
    } else {
      CHECK(c.status == store::ChildStatus::kEnrolled);
      CHECK(c.grade == std::min(before + 1, 6));
    }
  }
  auto audit = y.Read([](store::ReadTxn& t) { return t.audit().List(); });
  int withdraws = 0;
  for (const auto& e : audit) withdraws += e.action == "child.withdraw" ? 1 : 0;
  CHECK(withdraws == 4);
  CHECK(audit.back().action == "rollover");
  CHECK(audit.back().detail.find("promoted=16 withdrawn=4") != std::string::npos);

  // Twice for the same date: nothing changes.
  const std::size_t audit_after = y.AuditSize();
  RolloverCounts again = Rollover(*y.store, April(), who).value();
  CHECK(again.already_ran);
  CHECK(again.promoted == 0);
  CHECK(y.AuditSize() == audit_after);
  CHECK(y.Read([&](store::ReadTxn& t) { return t.children().Get(y.children[0]); }).grade == 2);
}

TEST_CASE("a facility rolled over with its own leaving grade is skipped by the whole run",
          "[year]") {
  Year y;
  const Actor who{"operator-1", kNow};
  RolloverCounts second = Rollover(*y.store, April(y.hikari2, 6), who).value();
  CHECK(second.promoted == 10);
  CHECK(second.withdrawn == 2);  // its grade 6
  CHECK(Rollover(*y.store, April(y.hikari2, 6), who).value().already_ran);
  RolloverCounts rest = Rollover(*y.store, April(), who).value();
  CHECK(rest.skipped_facilities == 1);
  CHECK(rest.promoted == 8);
  CHECK(rest.withdrawn == 2);
  CHECK(Rollover(*y.store, April(y.hikari1, 3), who).value().already_ran);
}

TEST_CASE("purge deletes what is older than the retention and withdrawn children's data",
          "[year]") {
  Year y;
  RetentionPolicy policy;
  policy.batch = 50;  // several batches per table
  const PurgeCutoffs cut = CutoffsAt(policy, kNow, kJst);
  CHECK(cut.before_date == LocalDate{2026, 2, 15});
  const int old_days = y.GenerateTraffic(cut.before);
  REQUIRE(old_days > 0);
  const std::int64_t per_day = static_cast<std::int64_t>(y.children.size());

  // One child withdrawn 200 days ago (past the grace), one 30 days ago (within it).
  const ChildId long_gone = y.children[1], recent = y.children[2];
  REQUIRE(y.seed.children.Withdraw(long_gone, kNow - kDay * 200, y.seed.who).ok());
  REQUIRE(y.seed.children.Withdraw(recent, kNow - kDay * 30, y.seed.who).ok());
  auto mails_of = [&](ChildId c) {
    return y.Read([&](store::ReadTxn& t) { return t.outbox().List(c); }).size();
  };
  const std::size_t long_gone_mails = mails_of(long_gone);
  REQUIRE(long_gone_mails > static_cast<std::size_t>(old_days));

  const Actor who{"scheduler", kNow};
  const std::size_t audit_before = y.AuditSize();
  PurgeCounts preview = Purge(*y.store, policy, kNow, kJst, true, who).value();
  CHECK(preview.taps == old_days * per_day);
  CHECK(preview.child_days == old_days * per_day);
  CHECK(preview.children == 1);
  CHECK(preview.guardians == 1);
  CHECK(y.AuditSize() == audit_before);
  CHECK(mails_of(long_gone) == long_gone_mails);  // the dry run wrote nothing

  PurgeCounts done = Purge(*y.store, policy, kNow, kJst, false, who).value();
  CHECK(done.taps == preview.taps);
  CHECK(done.child_days == preview.child_days);
  CHECK(done.outbox == preview.outbox);
  CHECK(done.send_log == preview.send_log);
  CHECK(done.children == 1);
  // The other children's old mail (the purged child's guardian's mail went with the guardian,
  // counted as the guardian). Their finished verification mail is old too.
  CHECK(done.send_log == old_days * (per_day - 1));
  CHECK(done.outbox >= old_days * (per_day - 1));
  CHECK(done.outbox <= old_days * (per_day - 1) + per_day);

  // What is gone and what is kept.
  store::Child purged = y.Read([&](store::ReadTxn& t) { return t.children().Get(long_gone); });
  CHECK(purged.name.empty());
  CHECK(purged.number);
  CHECK(y.Read([&](store::ReadTxn& t) { return t.guardians().OfChild(long_gone); }).empty());
  CHECK(mails_of(long_gone) == 0);
  store::Child kept = y.Read([&](store::ReadTxn& t) { return t.children().Get(recent); });
  CHECK_FALSE(kept.name.empty());
  CHECK(y.Read([&](store::ReadTxn& t) { return t.guardians().OfChild(recent); }).size() == 1);
  auto taps = y.Read(
      [&](store::ReadTxn& t) { return t.attendance().TapsOfChild(y.children[0], kStart, kNow); });
  REQUIRE_FALSE(taps.empty());
  for (const auto& t : taps) CHECK(t.corrected_at >= cut.before);
  auto days = y.Read([&](store::ReadTxn& t) {
    return t.attendance().DaysOfFacility(y.hikari1, LocalDate{2020, 1, 1}, LocalDate{2030, 1, 1});
  });
  for (const auto& d : days) CHECK(d.day.date >= cut.before_date);
  // The audit log is never purged: it only grew, by the purge's own entry.
  auto audit = y.Read([](store::ReadTxn& t) { return t.audit().List(); });
  CHECK(audit.size() > audit_before);
  CHECK(audit.back().action == "purge");
  CHECK(audit.back().detail.find("children=1") != std::string::npos);

  // Again: nothing left to purge.
  PurgeCounts again = Purge(*y.store, policy, kNow, kJst, false, who).value();
  CHECK(again.taps == 0);
  CHECK(again.send_log == 0);
  CHECK(again.children == 0);
}

TEST_CASE("the daily purge runs once per local day, from 03:00", "[year]") {
  Year y;
  RetentionPolicy policy;
  const TimePoint night = T("2027-03-15T02:59:00+09:00");
  CHECK_FALSE(PurgeIfDue(*y.store, policy, night, kJst).value());
  CHECK(PurgeIfDue(*y.store, policy, night + std::chrono::minutes(2), kJst).value());
  CHECK_FALSE(PurgeIfDue(*y.store, policy, night + std::chrono::hours(5), kJst).value());
  CHECK_FALSE(PurgeIfDue(*y.store, policy, night + std::chrono::hours(20), kJst).value());
  CHECK(PurgeIfDue(*y.store, policy, night + kDay + std::chrono::minutes(2), kJst).value());
  CHECK(y.Read([](store::ReadTxn& t) { return t.jobs().HasRun("purge", "2027-03-16"); }));
  int purges = 0;
  for (const auto& e : y.Read([](store::ReadTxn& t) { return t.audit().List(); }))
    purges += e.action == "purge" ? 1 : 0;
  CHECK(purges == 2);
}

}  // namespace
}  // namespace anshin::services
