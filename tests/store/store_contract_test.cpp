// The store contract: what every Store implementation must do, family by family, tested through
// the interfaces only (store/store.hpp). Runs once per factory in store_factories.hpp; every
// test's name starts with "contract:".
#include <catch2/catch.hpp>
#include <thread>

#include "tests/store/store_factories.hpp"

namespace anshin::store::contract {
namespace {

TimePoint T(const char* rfc3339) { return ParseRfc3339(rfc3339).value(); }
CardToken Tok(char c) { return CardToken::Parse(std::string(32, c)).value(); }
const TimePoint kT0 = T("2026-11-26T09:00:00+09:00");

// A facility, an agent and a child written straight through the tables (no services: the
// contract is about storage, not rules).
template <typename Factory>
struct World {
  Factory factory;
  std::unique_ptr<Store> store = factory.Open();
  FacilityId facility;
  AgentId agent;
  ChildId child;

  World() {
    auto txn = store->BeginWrite().value();
    Facility f;
    f.code = "hikari-1";
    f.name = "光が丘第一学童クラブ";
    facility = txn->facilities().Insert(f, kT0).value();
    Agent a;
    a.name = "hikari-1-pc";
    a.facility = facility;
    a.cert_sha256 = std::string(64, 'a');
    a.enrolled_at = kT0;
    agent = txn->agents().Insert(a).value();
    Child c;
    c.name = "練馬 さくら";
    c.facility = facility;
    c.schedule.expected_departure[4] = LocalTime::HM(17, 0);
    child = txn->children().Insert(c, kT0).value();
    REQUIRE(txn->Commit().ok());
  }

  GuardianId AddGuardian(const std::string& email, bool verified, bool arrival = true,
                         bool departure = true) {
    auto txn = store->BeginWrite().value();
    Guardian g;
    g.child = child;
    g.email = email;
    g.verified = verified;
    g.wants_arrival = arrival;
    g.wants_departure = departure;
    GuardianId id = txn->guardians().Insert(g, kT0).value();
    REQUIRE(txn->Commit().ok());
    return id;
  }

  std::int64_t QueueMail(GuardianId g, OutboxKind kind, TimePoint at) {
    auto txn = store->BeginWrite().value();
    OutboxMessage m;
    m.kind = kind;
    m.guardian = g;
    m.child = child;
    m.facility = facility;
    m.tap_at = at;
    m.created_at = at;
    if (kind == OutboxKind::kVerification) {
      m.verification_code = "123456";
      m.link_token = std::string(32, 'f');
    }
    std::int64_t id = txn->outbox().Insert(m).value();
    REQUIRE(txn->Commit().ok());
    return id;
  }

  TapRecord Tap(std::uint64_t seq) const {
    TapRecord t;
    t.agent = agent;
    t.seq = seq;
    t.card = Tok('1');
    t.facility = facility;
    t.reader = "entrance";
    t.tapped_at = t.corrected_at = t.received_at = kT0;
    t.reason = Reason::kUnknownCard;
    return t;
  }
};

TEMPLATE_TEST_CASE("contract: facilities round-trip their engine parameters", "[contract]",
                   ANSHIN_STORE_FACTORIES) {
  World<TestType> w;
  auto txn = w.store->BeginWrite().value();
  Facility f = txn->facilities().Get(w.facility).value();
  CHECK(f.code == "hikari-1");
  CHECK(f.name == "光が丘第一学童クラブ");
  CHECK(f.rules.double_tap_window == Seconds(120));
  CHECK(f.rules.departure_from == LocalTime::HM(16, 30));
  f.rules.closing_time = LocalTime::HM(18, 30);
  f.rules.late_after = Seconds(600);
  f.rules.departure_margin = Minutes(45);
  f.opens = LocalTime::HM(8, 0);
  f.tz_name = "Europe/Berlin";
  REQUIRE(txn->facilities().Update(f).ok());
  Facility g = txn->facilities().FindByCode("hikari-1").value().value();
  CHECK(g.rules.closing_time == LocalTime::HM(18, 30));
  CHECK(g.rules.late_after == Seconds(600));
  CHECK(g.rules.departure_margin == Minutes(45));
  CHECK(g.opens == LocalTime::HM(8, 0));
  CHECK(g.tz_name == "Europe/Berlin");
  CHECK_FALSE(txn->facilities().FindByCode("nope").value());
  CHECK(txn->facilities().Get(FacilityId{999}).status().code() == Status::Code::kNotFound);
  Facility dup;
  dup.code = "hikari-1";
  dup.name = "x";
  CHECK(txn->facilities().Insert(dup, kT0).status().code() == Status::Code::kAlreadyExists);
  Facility missing = f;
  missing.id = FacilityId{999};
  missing.code = "other";
  CHECK(txn->facilities().Update(missing).code() == Status::Code::kNotFound);
  dup.code = "a-second";
  REQUIRE(txn->facilities().Insert(dup, kT0).ok());
  auto list = txn->facilities().List().value();
  REQUIRE(list.size() == 2);
  CHECK(list[0].code == "a-second");  // by code
}

TEMPLATE_TEST_CASE("contract: children and their schedules", "[contract]", ANSHIN_STORE_FACTORIES) {
  World<TestType> w;
  auto read = w.store->BeginRead().value();
  Child c = read->children().Get(w.child).value();
  CHECK(c.name == "練馬 さくら");
  CHECK(c.facility == w.facility);
  CHECK(c.status == ChildStatus::kEnrolled);
  CHECK(c.schedule.expected_departure[4] == LocalTime::HM(17, 0));
  CHECK_FALSE(c.schedule.expected_departure[1]);
  CHECK(read->children().Schedule(w.child).value().expected_departure[4] == LocalTime::HM(17, 0));
  CHECK(read->children().Get(ChildId{999}).status().code() == Status::Code::kNotFound);
  read.reset();
  auto txn = w.store->BeginWrite().value();
  Child orphan;
  orphan.name = "x";
  orphan.facility = FacilityId{999};
  CHECK(txn->children().Insert(orphan, kT0).status().code() == Status::Code::kInvalidArgument);
}

TEMPLATE_TEST_CASE("contract: a tap is stored once per (agent, seq)", "[contract]",
                   ANSHIN_STORE_FACTORIES) {
  World<TestType> w;
  TapRecord t = w.Tap(7);
  t.direction = Direction::kExit;
  t.child = w.child;
  t.reason = Reason::kDeparture;
  t.late = true;
  {
    auto txn = w.store->BeginWrite().value();
    CHECK_FALSE(txn->attendance().FindTap(w.agent, 7).value());
    REQUIRE(txn->attendance().InsertTap(t).ok());
    CHECK(txn->attendance().InsertTap(t).code() == Status::Code::kAlreadyExists);
    std::optional<TapRecord> found = txn->attendance().FindTap(w.agent, 7).value();
    REQUIRE(found);
    CHECK(found->seq == 7);
    CHECK(found->card == Tok('1'));
    CHECK(found->reader == "entrance");
    CHECK(found->direction == Direction::kExit);
    CHECK(found->tapped_at == kT0);
    CHECK(found->reason == Reason::kDeparture);
    CHECK(found->child == w.child);
    CHECK(found->late);
    CHECK_FALSE(txn->attendance().FindTap(w.agent, 8).value());
    REQUIRE(txn->Commit().ok());
  }
  auto read = w.store->BeginRead().value();
  CHECK(read->attendance().TapsOfAgent(w.agent, 0, 100).value().size() == 1);
  CHECK(read->attendance().TapsOfAgent(w.agent, 7, 100).value().empty());
}

TEMPLATE_TEST_CASE("contract: uncommitted writes roll back, savepoints undo one part", "[contract]",
                   ANSHIN_STORE_FACTORIES) {
  World<TestType> w;
  {
    auto txn = w.store->BeginWrite().value();
    REQUIRE(txn->attendance().InsertTap(w.Tap(1)).ok());
  }  // destroyed: rolled back
  {
    auto read = w.store->BeginRead().value();
    CHECK(read->attendance().TapsOfAgent(w.agent, 0, 100).value().empty());
  }
  {
    auto txn = w.store->BeginWrite().value();
    REQUIRE(txn->Savepoint().ok());
    REQUIRE(txn->attendance().InsertTap(w.Tap(1)).ok());
    REQUIRE(txn->ReleaseSavepoint().ok());
    REQUIRE(txn->Savepoint().ok());
    REQUIRE(txn->attendance().InsertTap(w.Tap(2)).ok());
    REQUIRE(txn->RollbackSavepoint().ok());
    REQUIRE(txn->Commit().ok());
  }
  auto read = w.store->BeginRead().value();
  auto taps = read->attendance().TapsOfAgent(w.agent, 0, 100).value();
  REQUIRE(taps.size() == 1);
  CHECK(taps[0].seq == 1);
}

TEMPLATE_TEST_CASE("contract: a read transaction is a snapshot and does not block the writer",
                   "[contract]", ANSHIN_STORE_FACTORIES) {
  World<TestType> w;
  auto read = w.store->BeginRead().value();
  CHECK(read->attendance().TapsOfAgent(w.agent, 0, 100).value().empty());
  {
    auto txn = w.store->BeginWrite().value();  // while the snapshot is open
    REQUIRE(txn->attendance().InsertTap(w.Tap(1)).ok());
    REQUIRE(txn->Commit().ok());
  }
  CHECK(read->attendance().TapsOfAgent(w.agent, 0, 100).value().empty());  // still the snapshot
  read.reset();
  // Several readers at once, from several threads.
  std::vector<std::thread> threads;
  std::atomic<int> seen{0};
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&] {
      auto r = w.store->BeginRead().value();
      seen += static_cast<int>(r->attendance().TapsOfAgent(w.agent, 0, 100).value().size());
    });
  }
  for (auto& t : threads) t.join();
  CHECK(seen == 3);
}

TEMPLATE_TEST_CASE("contract: contiguous acknowledgement stops at a gap", "[contract]",
                   ANSHIN_STORE_FACTORIES) {
  World<TestType> w;
  auto txn = w.store->BeginWrite().value();
  for (std::uint64_t seq : {1, 2, 3, 6, 7}) REQUIRE(txn->attendance().InsertTap(w.Tap(seq)).ok());
  auto [through, gap] = txn->attendance().ContiguousThrough(w.agent, 0).value();
  CHECK(through == 3);
  REQUIRE(gap);
  CHECK(*gap == wire::SeqGap{4, 5});
  auto [through2, gap2] = txn->attendance().ContiguousThrough(w.agent, 6).value();
  CHECK(through2 == 7);
  CHECK_FALSE(gap2);
}

TEMPLATE_TEST_CASE("contract: child days round-trip and open days are listed", "[contract]",
                   ANSHIN_STORE_FACTORIES) {
  World<TestType> w;
  ChildDay day;
  day.date = LocalDate{2026, 11, 26};
  Visit v;
  v.arrival = T("2026-11-26T15:02:00+09:00");
  day.visits.push_back(v);
  Visit x;
  x.departure = T("2026-11-26T13:00:00+09:00");
  x.inferred = true;
  x.corrected = true;
  x.departure_unknown = true;
  day.visits.push_back(x);
  day.accepted_taps = {*v.arrival};
  auto txn = w.store->BeginWrite().value();
  REQUIRE(txn->attendance().SaveChildDay(w.child, w.facility, day).ok());
  CHECK(txn->attendance().LoadChildDay(w.child, w.facility, day.date).value() == day);
  ChildDay fresh =
      txn->attendance().LoadChildDay(w.child, w.facility, LocalDate{2026, 11, 27}).value();
  CHECK(fresh.visits.empty());
  CHECK(fresh.date == LocalDate{2026, 11, 27});
  day.visits.pop_back();  // only the open visit is left
  REQUIRE(txn->attendance().SaveChildDay(w.child, w.facility, day).ok());
  auto open = txn->attendance().OpenDays(w.facility, day.date).value();
  REQUIRE(open.size() == 1);
  CHECK(open[0].child == w.child);
  CHECK(open[0].day == day);
  day.closing_alerted = true;
  REQUIRE(txn->attendance().SaveChildDay(w.child, w.facility, day).ok());
  CHECK(txn->attendance().OpenDays(w.facility, day.date).value().empty());
}

TEMPLATE_TEST_CASE("contract: cards, their status and the versioned allowlist", "[contract]",
                   ANSHIN_STORE_FACTORIES) {
  World<TestType> w;
  auto txn = w.store->BeginWrite().value();
  CardTable& cards = txn->cards();
  CHECK(cards.AllowlistVersion().value() == 0);
  CHECK(cards.AllowlistTokens().value().empty());
  Card a;
  a.token = Tok('a');
  a.child = w.child;
  a.issued_at = kT0;
  REQUIRE(cards.Insert(a).ok());
  CHECK(cards.Insert(a).code() == Status::Code::kAlreadyExists);
  REQUIRE(cards.RecordAllowlistChange(a.token, AllowlistOp::kAdd, kT0).ok());
  const std::uint64_t v1 = cards.AllowlistVersion().value();
  CHECK(v1 > 0);
  CHECK(cards.ActiveOf(w.child).value()->token == Tok('a'));

  REQUIRE(cards.SetStatus(a.token, CardStatus::kRetired, kT0 + Seconds(5)).ok());
  REQUIRE(cards.RecordAllowlistChange(a.token, AllowlistOp::kRemove, kT0).ok());
  Card b = a;
  b.token = Tok('b');
  b.issued_at = kT0 + Seconds(5);
  REQUIRE(cards.Insert(b).ok());
  REQUIRE(cards.RecordAllowlistChange(b.token, AllowlistOp::kAdd, kT0).ok());
  Card retired = cards.Find(Tok('a')).value().value();
  CHECK(retired.status == CardStatus::kRetired);
  CHECK(retired.retired_at == kT0 + Seconds(5));
  CHECK_FALSE(cards.Find(Tok('c')).value());
  auto of_child = cards.OfChild(w.child).value();
  REQUIRE(of_child.size() == 2);
  CHECK(of_child[0].token == Tok('a'));  // by issue time
  CHECK(cards.ActiveOf(w.child).value()->token == Tok('b'));

  auto changes = cards.AllowlistChangesSince(v1).value();  // net change per token
  REQUIRE(changes.size() == 2);
  CHECK(changes[0] == std::pair{Tok('a'), AllowlistOp::kRemove});
  CHECK(changes[1] == std::pair{Tok('b'), AllowlistOp::kAdd});
  CHECK(cards.OldestAllowlistVersion().value() <= v1);
  CHECK(cards.AllowlistChangesSince(cards.AllowlistVersion().value()).value().empty());

  // Lost cards stay listed (their taps must reach the server); retired ones do not.
  REQUIRE(cards.SetStatus(b.token, CardStatus::kLost, kT0).ok());
  CHECK(cards.AllowlistTokens().value() == std::vector<CardToken>{Tok('b')});
  CHECK_FALSE(cards.ActiveOf(w.child).value());
  CHECK(cards.SetStatus(Tok('c'), CardStatus::kLost, kT0).code() == Status::Code::kNotFound);
}

TEMPLATE_TEST_CASE("contract: a child has at most one active card", "[contract]",
                   ANSHIN_STORE_FACTORIES) {
  World<TestType> w;
  auto txn = w.store->BeginWrite().value();
  Card a;
  a.token = Tok('a');
  a.child = w.child;
  a.issued_at = kT0;
  REQUIRE(txn->cards().Insert(a).ok());
  a.token = Tok('b');
  CHECK(txn->cards().Insert(a).code() == Status::Code::kAlreadyExists);
}

TEMPLATE_TEST_CASE("contract: guardians, notice targets and verification state", "[contract]",
                   ANSHIN_STORE_FACTORIES) {
  World<TestType> w;
  GuardianId both = w.AddGuardian("both@example.jp", true);
  GuardianId departures = w.AddGuardian("dep@example.jp", true, false, true);
  GuardianId unverified = w.AddGuardian("new@example.jp", false);
  auto txn = w.store->BeginWrite().value();
  CHECK(txn->guardians().NoticeTargets(w.child, NoticeKind::kArrival).value() ==
        std::vector<GuardianId>{both});
  CHECK(txn->guardians().NoticeTargets(w.child, NoticeKind::kCorrection).value() ==
        std::vector<GuardianId>{both, departures});
  REQUIRE(txn->guardians().SetBouncing(both, true).ok());
  CHECK(txn->guardians().NoticeTargets(w.child, NoticeKind::kDeparture).value() ==
        std::vector<GuardianId>{departures});
  CHECK(txn->guardians().Get(both).value().bouncing);
  CHECK(txn->guardians().OfChild(w.child).value().size() == 3);

  VerificationState v = txn->guardians().Verification(unverified).value();
  CHECK_FALSE(v.verified);
  CHECK_FALSE(v.code_hash);
  v.code_hash = "c0de";
  v.code_expires_at = kT0 + Minutes(5);
  v.code_attempts = 2;
  v.link_hash = "11nk";
  v.sends_window_start = kT0;
  v.sends_in_window = 3;
  REQUIRE(txn->guardians().SetVerification(unverified, v).ok());
  VerificationState back = txn->guardians().Verification(unverified).value();
  CHECK(back.code_hash == "c0de");
  CHECK(back.code_expires_at == kT0 + Minutes(5));
  CHECK(back.code_attempts == 2);
  CHECK(back.sends_in_window == 3);
  CHECK(txn->guardians().FindByLinkHash("11nk").value() == unverified);
  CHECK_FALSE(txn->guardians().FindByLinkHash("nope").value());
  back.verified = true;
  back.verified_at = kT0;
  back.link_hash.reset();
  REQUIRE(txn->guardians().SetVerification(unverified, back).ok());
  CHECK(txn->guardians().Get(unverified).value().verified);
  CHECK_FALSE(txn->guardians().FindByLinkHash("11nk").value());
  CHECK(txn->guardians().Get(GuardianId{999}).status().code() == Status::Code::kNotFound);
}

TEMPLATE_TEST_CASE("contract: the outbox is claimed, attempts recorded, history kept", "[contract]",
                   ANSHIN_STORE_FACTORIES) {
  World<TestType> w;
  GuardianId g = w.AddGuardian("parent@example.jp", true);
  GuardianId g2 = w.AddGuardian("parent2@example.jp", true);
  GuardianId g3 = w.AddGuardian("parent3@example.jp", true);
  const TimePoint t0 = T("2026-11-26T15:02:00+09:00");
  std::int64_t a = w.QueueMail(g, OutboxKind::kArrival, t0);
  std::int64_t b = w.QueueMail(g2, OutboxKind::kArrival, t0 + Seconds(1));
  std::int64_t c = w.QueueMail(g3, OutboxKind::kDeparture, t0 + Seconds(2));

  auto txn = w.store->BeginWrite().value();
  OutboxStats stats = txn->outbox().Stats(t0 + Seconds(60)).value();
  CHECK(stats.depth == 3);
  CHECK(stats.queued == 3);
  CHECK(stats.oldest_age == Seconds(60));

  auto items = txn->outbox().Claim(2, t0 + Seconds(5)).value();
  REQUIRE(items.size() == 2);
  CHECK(items[0].id == a);
  CHECK(items[1].id == b);
  CHECK(items[0].email == "parent@example.jp");
  CHECK(items[0].child_name == "練馬 さくら");
  CHECK(items[0].facility_name == "光が丘第一学童クラブ");
  CHECK(items[0].facility_tz == "Asia/Tokyo");
  CHECK(items[0].message.tap_at == t0);
  CHECK(items[0].message.guardian == g);
  CHECK(txn->outbox().Claim(10, t0 + Seconds(5)).value().size() == 1);  // only c is left
  CHECK(txn->outbox().Claim(10, t0 + Seconds(5)).value().empty());

  SendResult sent{a,       g, SendResult::Outcome::kSent, t0 + Seconds(6), 250, "250 2.0.0 Ok",
                  "<a@x>", {}};
  SendResult retry{b,
                   g2,
                   SendResult::Outcome::kRetry,
                   t0 + Seconds(6),
                   451,
                   "451 later",
                   "<b@x>",
                   t0 + Seconds(66)};
  SendResult failed{c,       g3, SendResult::Outcome::kFailed, t0 + Seconds(6), 550, "550 no user",
                    "<c@x>", {}};
  for (const SendResult& r : {sent, retry, failed}) REQUIRE(txn->outbox().RecordAttempt(r).ok());
  SendResult nobody = sent;
  nobody.outbox_id = 999;
  CHECK(txn->outbox().RecordAttempt(nobody).code() == Status::Code::kNotFound);

  auto rows = txn->outbox().List(w.child).value();
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].state == OutboxState::kSent);
  CHECK(rows[0].relay_reply == "250 2.0.0 Ok");
  CHECK(rows[0].sent_at == t0 + Seconds(6));
  CHECK(rows[0].message_id == "<a@x>");
  CHECK(rows[1].state == OutboxState::kRetrying);
  CHECK(rows[1].attempts == 1);
  CHECK(rows[1].last_error == "451 later");
  CHECK(rows[2].state == OutboxState::kFailed);
  CHECK(rows[2].message.kind == OutboxKind::kDeparture);
  auto log = txn->outbox().SendLog(b).value();
  REQUIRE(log.size() == 1);
  CHECK(log[0].smtp_code == 451);
  CHECK(log[0].result == "retry");

  CHECK(txn->outbox().Claim(10, t0 + Seconds(30)).value().empty());  // b not due yet
  auto again = txn->outbox().Claim(10, t0 + Seconds(66)).value();
  REQUIRE(again.size() == 1);
  CHECK(again[0].id == b);
  CHECK(again[0].attempts == 1);
  stats = txn->outbox().Stats(t0 + Seconds(70)).value();
  CHECK(stats.sent == 1);
  CHECK(stats.sending == 1);
  CHECK(stats.failed == 1);
  CHECK(stats.depth == 1);
  CHECK(txn->outbox().RequeueSending().value() == 1);
  CHECK(txn->outbox().Stats(t0 + Seconds(70)).value().queued == 1);
}

TEMPLATE_TEST_CASE("contract: a guardian's mail is claimed one row at a time, in the order queued",
                   "[contract]", ANSHIN_STORE_FACTORIES) {
  World<TestType> w;
  GuardianId g = w.AddGuardian("parent@example.jp", true);
  GuardianId other = w.AddGuardian("other@example.jp", true);
  const TimePoint t0 = T("2026-11-26T15:02:00+09:00");
  std::int64_t first = w.QueueMail(g, OutboxKind::kArrival, t0);
  std::int64_t second = w.QueueMail(g, OutboxKind::kDeparture, t0 + Seconds(1));
  std::int64_t third = w.QueueMail(g, OutboxKind::kArrival, t0 + Seconds(2));
  std::int64_t others = w.QueueMail(other, OutboxKind::kArrival, t0 + Seconds(3));
  auto txn = w.store->BeginWrite().value();
  auto ids = [](const std::vector<OutboxItem>& items) {
    std::vector<std::int64_t> out;
    for (const OutboxItem& it : items) out.push_back(it.id);
    return out;
  };
  // One row per guardian; while it is on the wire the next waits.
  CHECK(ids(txn->outbox().Claim(10, t0 + Seconds(5)).value()) ==
        std::vector<std::int64_t>{first, others});
  CHECK(txn->outbox().Claim(10, t0 + Seconds(5)).value().empty());
  // The first is deferred (relay down): the second, due now, still waits behind it.
  SendResult retry{
      first,           g, SendResult::Outcome::kRetry, t0 + Seconds(6), 421, "421 down", "<1@x>",
      t0 + Seconds(60)};
  REQUIRE(txn->outbox().RecordAttempt(retry).ok());
  CHECK(txn->outbox().Claim(10, t0 + Seconds(30)).value().empty());
  CHECK(ids(txn->outbox().Claim(10, t0 + Seconds(60)).value()) == std::vector<std::int64_t>{first});
  SendResult sent{first,   g, SendResult::Outcome::kSent, t0 + Seconds(61), 250, "250 Ok",
                  "<1@x>", {}};
  REQUIRE(txn->outbox().RecordAttempt(sent).ok());
  CHECK(ids(txn->outbox().Claim(10, t0 + Seconds(61)).value()) ==
        std::vector<std::int64_t>{second});
  // A row given up no longer holds the next one back.
  SendResult failed{second,  g, SendResult::Outcome::kFailed, t0 + Seconds(62), 550, "550 no",
                    "<2@x>", {}};
  REQUIRE(txn->outbox().RecordAttempt(failed).ok());
  CHECK(ids(txn->outbox().Claim(10, t0 + Seconds(62)).value()) == std::vector<std::int64_t>{third});
}

TEMPLATE_TEST_CASE("contract: verification mails are dropped, test mails go to verified guardians",
                   "[contract]", ANSHIN_STORE_FACTORIES) {
  World<TestType> w;
  GuardianId verified = w.AddGuardian("a@example.jp", true);
  GuardianId pending = w.AddGuardian("b@example.jp", false);
  std::int64_t v = w.QueueMail(pending, OutboxKind::kVerification, kT0);
  auto txn = w.store->BeginWrite().value();
  auto claimed = txn->outbox().Claim(10, kT0).value();
  REQUIRE(claimed.size() == 1);
  CHECK(claimed[0].message.verification_code == "123456");
  CHECK(claimed[0].message.link_token == std::string(32, 'f'));
  REQUIRE(txn->outbox().RequeueSending().ok());
  CHECK(txn->outbox().DropPendingVerification(pending, "superseded").value() == 1);
  auto rows = txn->outbox().List(std::nullopt).value();
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].id == v);
  CHECK(rows[0].state == OutboxState::kFailed);
  CHECK(rows[0].last_error == "superseded");
  CHECK(rows[0].message.verification_code.empty());  // the secret is gone
  CHECK(txn->outbox().InsertTestMails(w.facility, kT0).value() == 1);
  REQUIRE(txn->guardians().SetBouncing(verified, true).ok());
  CHECK(txn->outbox().InsertTestMails(w.facility, kT0).value() == 0);
  CHECK(txn->outbox().InsertTestMails(FacilityId{999}, kT0).value() == 0);
}

TEMPLATE_TEST_CASE("contract: agents and their last contact", "[contract]",
                   ANSHIN_STORE_FACTORIES) {
  World<TestType> w;
  auto txn = w.store->BeginWrite().value();
  Agent a = txn->agents().Find("hikari-1-pc").value().value();
  CHECK(a.facility == w.facility);
  CHECK(a.status == AgentStatus::kActive);
  CHECK_FALSE(a.last_contact);
  AgentContact c;
  c.at = kT0 + Minutes(1);
  c.skew_ms = -1500;
  c.health_json = R"({"reader_state":"ok"})";
  c.acked_through = 12;
  c.gap = wire::SeqGap{14, 15};
  REQUIRE(txn->agents().RecordContact(a.id, c).ok());
  c.health_json.reset();  // keeps the previous report
  c.gap.reset();
  REQUIRE(txn->agents().RecordContact(a.id, c).ok());
  Agent b = txn->agents().Find("hikari-1-pc").value().value();
  CHECK(b.last_contact == kT0 + Minutes(1));
  CHECK(b.skew_ms == -1500);
  CHECK(b.last_health_json == R"({"reader_state":"ok"})");
  CHECK(b.acked_through == 12);
  CHECK_FALSE(b.gap);
  REQUIRE(txn->agents().SetStatus(a.id, AgentStatus::kRevoked).ok());
  CHECK(txn->agents().List().value().at(0).status == AgentStatus::kRevoked);
  CHECK_FALSE(txn->agents().Find("nobody").value());
  Agent dup = a;
  CHECK(txn->agents().Insert(dup).status().code() == Status::Code::kAlreadyExists);
}

TEMPLATE_TEST_CASE("contract: an agent's certificate, acknowledgement and skew samples",
                   "[contract]", ANSHIN_STORE_FACTORIES) {
  World<TestType> w;
  auto txn = w.store->BeginWrite().value();
  Agent a = txn->agents().Find("hikari-1-pc").value().value();
  CHECK_FALSE(a.cert_not_after);
  const TimePoint expiry = kT0 + std::chrono::hours(24 * 825);
  REQUIRE(txn->agents().SetCertificate(a.id, std::string(64, 'b'), expiry).ok());
  Agent renewed = txn->agents().Find("hikari-1-pc").value().value();
  CHECK(renewed.cert_sha256 == std::string(64, 'b'));
  CHECK(renewed.cert_not_after == expiry);
  CHECK(txn->agents().SetCertificate(AgentId{999}, "x", expiry).code() == Status::Code::kNotFound);

  Agent second;
  second.name = "hikari-1-back";
  second.facility = w.facility;
  second.cert_sha256 = std::string(64, 'c');
  second.enrolled_at = kT0;
  second.cert_not_after = kT0 + Minutes(5);
  AgentId second_id = txn->agents().Insert(second).value();
  CHECK(txn->agents().Find("hikari-1-back").value()->cert_not_after == kT0 + Minutes(5));

  REQUIRE(txn->agents().SetAcked(a.id, 9, wire::SeqGap{10, 12}).ok());
  CHECK(txn->agents().Find("hikari-1-pc").value()->gap == wire::SeqGap{10, 12});
  REQUIRE(txn->agents().SetAcked(a.id, 15, std::nullopt).ok());
  Agent acked = txn->agents().Find("hikari-1-pc").value().value();
  CHECK(acked.acked_through == 15);
  CHECK_FALSE(acked.gap);

  CHECK_FALSE(txn->agents().LastSkewSample(a.id).value());
  REQUIRE(txn->agents().RecordSkewSample(a.id, {kT0, 100}).ok());
  REQUIRE(txn->agents().RecordSkewSample(a.id, {kT0 + Minutes(20), -2500}).ok());
  REQUIRE(txn->agents().RecordSkewSample(a.id, {kT0 + Minutes(20), -2600}).ok());  // replaces
  REQUIRE(txn->agents().RecordSkewSample(second_id, {kT0 + Minutes(30), 7}).ok());
  CHECK(txn->agents().LastSkewSample(a.id).value() == SkewSample{kT0 + Minutes(20), -2600});
  CHECK(txn->agents().SkewSamples(a.id, kT0).value() ==
        std::vector<SkewSample>{{kT0, 100}, {kT0 + Minutes(20), -2600}});
  CHECK(txn->agents().SkewSamples(a.id, kT0 + Minutes(1)).value() ==
        std::vector<SkewSample>{{kT0 + Minutes(20), -2600}});
  // Only samples before the cutoff go, at most `limit` at a time.
  REQUIRE(txn->agents().RecordSkewSample(a.id, {kT0 - Minutes(5), 1}).ok());
  CHECK(txn->agents().DeleteSkewSamplesBefore(kT0 + Minutes(10), 1).value() == 1);
  CHECK(txn->agents().DeleteSkewSamplesBefore(kT0 + Minutes(10), 5).value() == 1);
  CHECK(txn->agents().DeleteSkewSamplesBefore(kT0 + Minutes(10), 5).value() == 0);
  CHECK(txn->agents().SkewSamples(a.id, kT0 - Minutes(60)).value().size() == 1);
  CHECK(txn->agents().SkewSamples(second_id, kT0).value().size() == 1);
}

TEMPLATE_TEST_CASE("contract: alerts, audit rows and job runs", "[contract]",
                   ANSHIN_STORE_FACTORIES) {
  World<TestType> w;
  auto txn = w.store->BeginWrite().value();
  AlertRecord a;
  a.kind = AlertKind::kNoDeparture;
  a.facility = w.facility;
  a.child = w.child;
  a.at = kT0;
  a.detail = "date=2026-11-26";
  std::int64_t id = txn->alerts().Insert(a).value();
  auto alerts = txn->alerts().List(true).value();
  REQUIRE(alerts.size() == 1);
  CHECK(alerts[0].id == id);
  CHECK(alerts[0].kind == AlertKind::kNoDeparture);
  CHECK(alerts[0].child == w.child);
  CHECK(alerts[0].detail == "date=2026-11-26");

  CHECK_FALSE(txn->audit().Last().value());
  AuditEntry e{0, kT0, "tester", "x.y", "a=1", "prev", "hash1"};
  std::int64_t first = txn->audit().Append(e).value();
  e.hash = "hash2";
  txn->audit().Append(e).value();
  CHECK(txn->audit().Last().value()->hash == "hash2");
  auto entries = txn->audit().List().value();
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].id == first);
  CHECK(entries[0].actor == "tester");
  CHECK(entries[0].at == kT0);

  CHECK_FALSE(txn->jobs().HasRun("monthly-test:hikari-1", "2026-12").value());
  CHECK(txn->jobs().RecordRun("monthly-test:hikari-1", "2026-12", kT0).value());
  CHECK_FALSE(txn->jobs().RecordRun("monthly-test:hikari-1", "2026-12", kT0).value());
  CHECK(txn->jobs().HasRun("monthly-test:hikari-1", "2026-12").value());
  CHECK(txn->jobs().RecordRun("monthly-test:hikari-1", "2027-01", kT0).value());
}

TEMPLATE_TEST_CASE("contract: what was committed survives reopening", "[contract]",
                   ANSHIN_STORE_FACTORIES) {
  World<TestType> w;
  {
    auto txn = w.store->BeginWrite().value();
    REQUIRE(txn->attendance().InsertTap(w.Tap(1)).ok());
    REQUIRE(txn->Commit().ok());
  }
  w.store.reset();
  w.store = w.factory.Open();
  auto read = w.store->BeginRead().value();
  CHECK(read->attendance().TapsOfAgent(w.agent, 0, 10).value().size() == 1);
  CHECK(read->children().Get(w.child).value().name == "練馬 さくら");
}

}  // namespace
}  // namespace anshin::store::contract

namespace anshin::store::contract {
namespace {

TEMPLATE_TEST_CASE("contract: children are found by name, kana, number, facility and card",
                   "[contract]", ANSHIN_STORE_FACTORIES) {
  World<TestType> w;
  ChildId haruto, withdrawn;
  {
    auto txn = w.store->BeginWrite().value();
    Child sakura = txn->children().Get(w.child).value();
    sakura.kana = "ねりま さくら";
    sakura.number = "2026-0001";
    REQUIRE(txn->children().Update(sakura).ok());
    Child c;
    c.name = "Nerima Haruto";
    c.facility = w.facility;
    c.number = "2026-0002";
    haruto = txn->children().Insert(c, kT0).value();
    c.name = "練馬 たろう";
    c.number = "2025-0100";
    c.status = ChildStatus::kWithdrawn;
    c.withdrawn_at = kT0;
    withdrawn = txn->children().Insert(c, kT0).value();
    Card card;
    card.token = CardToken::Parse("3f2a9c1e" + std::string(24, '0')).value();
    card.child = haruto;
    card.issued_at = kT0;
    REQUIRE(txn->cards().Insert(card).ok());
    REQUIRE(txn->Commit().ok());
  }
  auto ids = [&](ChildQuery q) {
    std::vector<std::int64_t> out;
    auto txn = w.store->BeginRead().value();
    std::vector<Child> found = txn->children().Find(q).value();
    for (const Child& c : found) out.push_back(c.id.value);
    return out;
  };
  auto text = [](std::string t) {
    ChildQuery q;
    q.text = std::move(t);
    return q;
  };
  using V = std::vector<std::int64_t>;
  CHECK(ids(ChildQuery{}) == V{w.child.value, haruto.value});
  CHECK(ids(text("さくら")) == V{w.child.value});               // name and kana
  CHECK(ids(text("haruto")) == V{haruto.value});                // case-insensitive ASCII
  CHECK(ids(text("2026-")) == V{w.child.value, haruto.value});  // number prefix
  CHECK(ids(text("0001")).empty());                             // a number matches by prefix only
  CHECK(ids(text("HIKARI-1")) == V{w.child.value, haruto.value});  // facility code
  CHECK(ids(text("3f2a9c")) == V{haruto.value});                   // card token prefix
  CHECK(ids(text("50%")).empty());                                 // no LIKE wildcards
  ChildQuery all = text("練馬");
  CHECK(ids(all) == V{w.child.value});
  all.withdrawn_too = true;
  CHECK(ids(all) == V{w.child.value, withdrawn.value});
  ChildQuery other;
  other.facility = FacilityId{w.facility.value + 100};
  CHECK(ids(other).empty());
  ChildQuery one;
  one.limit = 1;
  CHECK(ids(one) == V{w.child.value});
  // A row's every field reads back through Find as through Get.
  auto txn = w.store->BeginRead().value();
  Child got = txn->children().Find(text("2026-0001")).value().at(0);
  CHECK(got.kana == "ねりま さくら");
  CHECK(got.schedule.expected_departure[4] == LocalTime::HM(17, 0));
}

TEMPLATE_TEST_CASE("contract: a child's taps by judged time", "[contract]",
                   ANSHIN_STORE_FACTORIES) {
  World<TestType> w;
  {
    auto txn = w.store->BeginWrite().value();
    for (std::uint64_t seq = 1; seq <= 4; ++seq) {
      TapRecord t = w.Tap(seq);
      t.child = w.child;
      t.reason = Reason::kArrival;
      // seq 4 was made first: order is by judged time, not seq.
      t.corrected_at = kT0 + std::chrono::hours(seq == 4 ? 0 : static_cast<int>(seq) * 10);
      REQUIRE(txn->attendance().InsertTap(t).ok());
    }
    TapRecord other = w.Tap(5);  // no child: not listed
    REQUIRE(txn->attendance().InsertTap(other).ok());
    REQUIRE(txn->Commit().ok());
  }
  auto txn = w.store->BeginRead().value();
  auto seqs = [&](TimePoint from, TimePoint to) {
    std::vector<std::uint64_t> out;
    std::vector<TapRecord> taps = txn->attendance().TapsOfChild(w.child, from, to).value();
    for (const auto& t : taps) {
      CHECK(t.agent == w.agent);
      out.push_back(t.seq);
    }
    return out;
  };
  using V = std::vector<std::uint64_t>;
  CHECK(seqs(kT0, kT0 + std::chrono::hours(100)) == V{4, 1, 2, 3});
  CHECK(seqs(kT0 + std::chrono::hours(10), kT0 + std::chrono::hours(30)) == V{1, 2});  // [from, to)
  CHECK(seqs(kT0 + std::chrono::hours(31), kT0 + std::chrono::hours(40)).empty());
}

TEMPLATE_TEST_CASE("contract: alerts are acknowledged with who, when and a note", "[contract]",
                   ANSHIN_STORE_FACTORIES) {
  World<TestType> w;
  std::int64_t id = 0;
  {
    auto txn = w.store->BeginWrite().value();
    AlertRecord a;
    a.kind = AlertKind::kLostCardSeen;
    a.facility = w.facility;
    a.child = w.child;
    a.at = kT0;
    a.detail = "agent=1 seq=2";
    id = txn->alerts().Insert(a).value();
    REQUIRE(txn->Commit().ok());
  }
  {
    auto txn = w.store->BeginWrite().value();
    AlertRecord fresh = txn->alerts().Get(id).value();
    CHECK_FALSE(fresh.acknowledged);
    CHECK_FALSE(fresh.acknowledged_at.has_value());
    CHECK(txn->alerts()
              .Acknowledge(id, Actor{"staff1", kT0 + std::chrono::hours(1)}, "called the guardian")
              .ok());
    CHECK(txn->alerts().Acknowledge(id + 1, Actor{"staff1", kT0}, "x").code() ==
          Status::Code::kNotFound);
    CHECK(txn->alerts().Get(id + 1).status().code() == Status::Code::kNotFound);
    REQUIRE(txn->Commit().ok());
  }
  auto txn = w.store->BeginRead().value();
  AlertRecord a = txn->alerts().Get(id).value();
  CHECK(a.acknowledged);
  CHECK(a.acknowledged_at == kT0 + std::chrono::hours(1));
  CHECK(a.acknowledged_by == "staff1");
  CHECK(a.ack_note == "called the guardian");
  CHECK(a.detail == "agent=1 seq=2");
  CHECK(txn->alerts().List(true).value().empty());
  CHECK(txn->alerts().List(false).value().size() == 1);
}

TEMPLATE_TEST_CASE("contract: cards to ship and children without an active card", "[contract]",
                   ANSHIN_STORE_FACTORIES) {
  World<TestType> w;
  auto txn = w.store->BeginWrite().value();
  Facility f2;
  f2.code = "aaa-0";  // sorts before hikari-1
  f2.name = "second";
  const FacilityId other = txn->facilities().Insert(f2, kT0).value();
  auto child = [&](FacilityId f, std::optional<std::string> number) {
    Child c;
    c.name = "c";
    c.facility = f;
    c.number = std::move(number);
    return txn->children().Insert(c, kT0).value();
  };
  const ChildId b2 = child(w.facility, "B2"), b1 = child(w.facility, "B1");
  const ChildId none = child(w.facility, std::nullopt), elsewhere = child(other, "Z9");
  auto card = [&](ChildId c, char t) {
    Card k;
    k.token = Tok(t);
    k.child = c;
    k.issued_at = kT0;
    REQUIRE(txn->cards().Insert(k).ok());
  };
  card(w.child, 'a');  // no number: last of its facility
  card(b2, 'b');
  card(b1, 'c');
  card(elsewhere, 'd');
  REQUIRE(txn->cards().SetStatus(Tok('a'), CardStatus::kLost, kT0).ok());
  auto children_of = [](const std::vector<Card>& cards) {
    std::vector<ChildId> out;
    for (const Card& c : cards) out.push_back(c.child);
    return out;
  };
  // Active only; by facility code, child number, id.
  CHECK(children_of(txn->cards().ActiveToShip(std::nullopt, std::nullopt, false).value()) ==
        std::vector<ChildId>{elsewhere, b1, b2});
  CHECK(children_of(txn->cards().ActiveToShip(w.facility, std::nullopt, false).value()) ==
        std::vector<ChildId>{b1, b2});
  CHECK(children_of(txn->cards().ActiveToShip(std::nullopt, b2, false).value()) ==
        std::vector<ChildId>{b2});
  REQUIRE(txn->cards().MarkShipped(Tok('c'), kT0 + Seconds(1)).ok());
  CHECK(txn->cards().Find(Tok('c')).value()->shipped_at == kT0 + Seconds(1));
  CHECK_FALSE(txn->cards().Find(Tok('b')).value()->shipped_at);
  CHECK(children_of(txn->cards().ActiveToShip(w.facility, std::nullopt, false).value()) ==
        std::vector<ChildId>{b2});
  CHECK(children_of(txn->cards().ActiveToShip(w.facility, std::nullopt, true).value()) ==
        std::vector<ChildId>{b1, b2});
  CHECK(txn->cards().MarkShipped(Tok('e'), kT0).code() == Status::Code::kNotFound);

  // w.child's card is lost and `none` has none: both wait for a card (no numbers: by id).
  CHECK(txn->cards().ChildrenWithoutActiveCard(std::nullopt).value() ==
        std::vector<ChildId>{w.child, none});
  CHECK(txn->cards().ChildrenWithoutActiveCard(other).value().empty());
}

}  // namespace
}  // namespace anshin::store::contract

namespace anshin::store::contract {
namespace {

TEMPLATE_TEST_CASE("contract: retention deletes in bounded batches, oldest rows only", "[contract]",
                   ANSHIN_STORE_FACTORIES) {
  World<TestType> w;
  const TimePoint cutoff = kT0 + std::chrono::hours(24 * 10);
  {
    auto txn = w.store->BeginWrite().value();
    for (std::uint64_t seq = 1; seq <= 5; ++seq) {
      TapRecord t = w.Tap(seq);
      t.corrected_at = seq <= 3 ? kT0 : cutoff + std::chrono::hours(1);  // 3 old, 2 new
      REQUIRE(txn->attendance().InsertTap(t).ok());
    }
    for (unsigned d = 1; d <= 4; ++d) {
      ChildDay day;
      day.date = LocalDate{2026, 11, d * 5};  // 11-05, 11-10 before 11-12; 11-15, 11-20 after
      REQUIRE(txn->attendance().SaveChildDay(w.child, w.facility, day).ok());
    }
    REQUIRE(txn->Commit().ok());
  }
  auto txn = w.store->BeginWrite().value();
  CHECK(txn->attendance().DeleteTapsBefore(cutoff, 2).value() == 2);
  CHECK(txn->attendance().DeleteTapsBefore(cutoff, 2).value() == 1);
  CHECK(txn->attendance().DeleteTapsBefore(cutoff, 2).value() == 0);
  CHECK_FALSE(txn->attendance().FindTap(w.agent, 3).value());
  CHECK(txn->attendance().FindTap(w.agent, 4).value());
  CHECK(txn->attendance().DeleteChildDaysBefore(LocalDate{2026, 11, 12}, 10).value() == 2);
  auto days = txn->attendance()
                  .DaysOfFacility(w.facility, LocalDate{2026, 11, 1}, LocalDate{2026, 12, 1})
                  .value();
  REQUIRE(days.size() == 2);
  CHECK(days[0].day.date == LocalDate{2026, 11, 15});
  CHECK(days[1].child == w.child);
  CHECK(txn->attendance()
            .DaysOfFacility(w.facility, LocalDate{2026, 11, 16}, LocalDate{2026, 11, 20})
            .value()
            .empty());  // `to` is exclusive
}

TEMPLATE_TEST_CASE("contract: send history by month, and its deletion keeps pending mail",
                   "[contract]", ANSHIN_STORE_FACTORIES) {
  World<TestType> w;
  GuardianId g = w.AddGuardian("hanako@example.jp", true);
  GuardianId g2 = w.AddGuardian("taro@example.jp", true);
  GuardianId g3 = w.AddGuardian("jiro@example.jp", true);
  const std::int64_t old_sent = w.QueueMail(g, OutboxKind::kArrival, kT0);
  const std::int64_t old_queued = w.QueueMail(g2, OutboxKind::kDeparture, kT0);
  const TimePoint later = kT0 + std::chrono::hours(24 * 40);
  const std::int64_t new_sent = w.QueueMail(g3, OutboxKind::kArrival, later);
  {
    auto txn = w.store->BeginWrite().value();
    auto claimed = txn->outbox().Claim(10, later).value();
    REQUIRE(claimed.size() == 3);
    for (std::int64_t id : {old_sent, new_sent}) {
      SendResult r;
      r.outbox_id = id;
      r.guardian = id == old_sent ? g : g3;
      r.at = id == old_sent ? kT0 : later;
      r.smtp_code = 250;
      r.reply = "250 2.0.0 Ok";
      REQUIRE(txn->outbox().RecordAttempt(r).ok());
    }
    REQUIRE(txn->outbox().RequeueSending().ok());
    auto rows = txn->outbox().SendLogBetween(kT0, kT0 + std::chrono::hours(1)).value();
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].facility == std::optional<FacilityId>(w.facility));
    CHECK(rows[0].kind == OutboxKind::kArrival);
    CHECK(rows[0].result == "sent");
    CHECK(rows[0].smtp_code == 250);
    CHECK_FALSE(rows[0].child_number);
    REQUIRE(txn->Commit().ok());
  }
  auto txn = w.store->BeginWrite().value();
  const TimePoint cutoff = kT0 + std::chrono::hours(24);
  // An outbox row goes only once its send history has gone.
  CHECK(txn->outbox().DeleteOutboxBefore(cutoff, 10).value() == 0);
  CHECK(txn->outbox().DeleteSendLogBefore(cutoff, 10).value() == 1);
  CHECK(txn->outbox().DeleteOutboxBefore(cutoff, 10).value() == 1);
  auto left = txn->outbox().List(std::nullopt).value();
  REQUIRE(left.size() == 2);
  CHECK(left[0].id == old_queued);  // still to be sent: kept whatever its age
  CHECK(left[1].id == new_sent);
  CHECK(txn->outbox().SendLog(new_sent).value().size() == 1);
}

TEMPLATE_TEST_CASE("contract: a withdrawn child's personal data is purged", "[contract]",
                   ANSHIN_STORE_FACTORIES) {
  World<TestType> w;
  GuardianId g = w.AddGuardian("hanako@example.jp", true);
  const std::int64_t mail = w.QueueMail(g, OutboxKind::kArrival, kT0);
  auto txn = w.store->BeginWrite().value();
  CHECK(txn->children().WithdrawnBefore(kT0 + std::chrono::hours(1), 10).value().empty());
  Child c = txn->children().Get(w.child).value();
  c.status = ChildStatus::kWithdrawn;
  c.withdrawn_at = kT0;
  c.kana = "ねりま さくら";
  c.number = "2026-0001";
  REQUIRE(txn->children().Update(c).ok());
  CHECK(txn->children().WithdrawnBefore(kT0, 10).value().empty());  // strictly before
  auto due = txn->children().WithdrawnBefore(kT0 + std::chrono::hours(1), 10).value();
  REQUIRE(due.size() == 1);
  CHECK(txn->guardians().DeleteOfChild(w.child).value() == 1);
  CHECK(txn->guardians().OfChild(w.child).value().empty());
  CHECK(txn->outbox().SendLog(mail).value().empty());
  CHECK(txn->outbox().List(std::nullopt).value().empty());
  REQUIRE(txn->children().MarkPurged(w.child, kT0).ok());
  Child purged = txn->children().Get(w.child).value();
  CHECK(purged.name.empty());
  CHECK(purged.kana.empty());
  CHECK(purged.number == std::optional<std::string>("2026-0001"));
  CHECK(txn->children().WithdrawnBefore(kT0 + std::chrono::hours(1), 10).value().empty());
  CHECK(txn->children().MarkPurged(ChildId{999}, kT0).code() == Status::Code::kNotFound);
}

}  // namespace
}  // namespace anshin::store::contract
