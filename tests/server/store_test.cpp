// Contract tests of SqliteStore against a real SQLite file in a temp dir.
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "notify-server/store/sqlite_store.hpp"
#include "tests/fakes/temp_dir.hpp"

namespace anshin::store {
namespace {

TimePoint T(const char* rfc3339) { return ParseRfc3339(rfc3339).value(); }
CardToken Tok(char c) { return CardToken::Parse(std::string(32, c)).value(); }

struct Fixture {
  fakes::TempDir dir{"store-test"};
  std::unique_ptr<SqliteStore> store;
  Actor who{"tester", T("2026-11-26T09:00:00+09:00")};
  FacilityId facility;
  AgentId agent;
  ChildId child;

  Fixture() {
    SqliteOptions o;
    o.path = dir / "anshin.db";
    store = SqliteStore::Open(o).value();
    Facility f;
    f.code = "hikari-1";
    f.name = "光が丘第一学童クラブ";
    facility = store->AddFacility(f, who).value();
    Agent a;
    a.name = "hikari-1-pc";
    a.facility = facility;
    a.cert_sha256 = std::string(64, 'a');
    a.enrolled_at = who.at;
    agent = store->AddAgent(a, who).value();
    Child c;
    c.name = "練馬 さくら";
    c.facility = facility;
    child = store->AddChild(c, who).value();
  }

  GuardianId VerifiedGuardian(const std::string& email) {
    Guardian g;
    g.child = child;
    g.email = email;
    VerificationTicket t = store->AddGuardian(g, who).value();
    REQUIRE(store->VerifyGuardianByCode(t.guardian, t.code, who.at).ok());
    return t.guardian;
  }

  // Queues an arrival row directly through a write transaction.
  std::int64_t QueueArrival(GuardianId g, TimePoint at) {
    auto txn = store->BeginWrite().value();
    NewOutboxRow r;
    r.kind = OutboxKind::kArrival;
    r.guardian = g;
    r.child = child;
    r.facility = facility;
    r.tap_at = at;
    r.created_at = at;
    std::int64_t id = txn->InsertOutbox(r).value();
    REQUIRE(txn->Commit().ok());
    return id;
  }
};

TEST_CASE("migrations are applied once and recorded", "[store]") {
  fakes::TempDir dir{"store-test"};
  SqliteOptions o;
  o.path = dir / "anshin.db";
  {
    auto s = SqliteStore::Open(o).value();
    CHECK(s->SchemaVersion().value() == LatestSchemaVersion());
  }
  auto s = SqliteStore::Open(o).value();  // reopening applies nothing twice
  CHECK(s->SchemaVersion().value() == LatestSchemaVersion());
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(o.path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM schema_version", -1, &st, nullptr);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  CHECK(sqlite3_column_int(st, 0) == LatestSchemaVersion());
  sqlite3_finalize(st);
  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))) == "wal");
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST_CASE("facilities round-trip their engine parameters", "[store]") {
  Fixture fx;
  Facility f = fx.store->GetFacilityByCode("hikari-1").value();
  CHECK(f.rules.double_tap_window == Seconds(120));
  CHECK(f.rules.departure_from == LocalTime::HM(16, 30));
  f.rules.closing_time = LocalTime::HM(18, 30);
  f.rules.late_after = Seconds(600);
  f.tz_name = "Asia/Tokyo";
  REQUIRE(fx.store->UpdateFacility(f, fx.who).ok());
  Facility g = fx.store->GetFacilityByCode("hikari-1").value();
  CHECK(g.rules.closing_time == LocalTime::HM(18, 30));
  CHECK(g.rules.late_after == Seconds(600));
  Facility dup;
  dup.code = "hikari-1";
  dup.name = "x";
  CHECK(fx.store->AddFacility(dup, fx.who).status().code() == Status::Code::kAlreadyExists);
  CHECK(fx.store->GetFacilityByCode("nope").status().code() == Status::Code::kNotFound);
}

TEST_CASE("a tap is stored once per (agent, seq)", "[store]") {
  Fixture fx;
  TapRecord t;
  t.agent = fx.agent;
  t.seq = 7;
  t.card = Tok('1');
  t.facility = fx.facility;
  t.reader = "entrance";
  t.tapped_at = t.corrected_at = t.received_at = fx.who.at;
  t.reason = Reason::kUnknownCard;
  t.direction = Direction::kExit;
  {
    auto txn = fx.store->BeginWrite().value();
    CHECK_FALSE(txn->FindTap(fx.agent, 7).value());
    REQUIRE(txn->InsertTap(t).ok());
    CHECK(txn->InsertTap(t).code() == Status::Code::kAlreadyExists);
    // FindTap returns what was stored, so ingest can compare a re-sent tap with it.
    std::optional<TapRecord> found = txn->FindTap(fx.agent, 7).value();
    REQUIRE(found);
    CHECK(found->seq == 7);
    CHECK(found->card == Tok('1'));
    CHECK(found->reader == "entrance");
    CHECK(found->direction == Direction::kExit);
    CHECK(found->tapped_at == fx.who.at);
    CHECK_FALSE(txn->FindTap(fx.agent, 8).value());
    REQUIRE(txn->Commit().ok());
  }
  CHECK(fx.store->ListTaps(fx.agent, 0, 100).value().size() == 1);
}

TEST_CASE("a write transaction rolls back unless committed, savepoints undo one part", "[store]") {
  Fixture fx;
  TapRecord t;
  t.agent = fx.agent;
  t.card = Tok('1');
  t.facility = fx.facility;
  t.reader = "entrance";
  t.reason = Reason::kUnknownCard;
  {
    auto txn = fx.store->BeginWrite().value();
    t.seq = 1;
    REQUIRE(txn->InsertTap(t).ok());
  }  // destroyed: rolled back
  CHECK(fx.store->ListTaps(fx.agent, 0, 100).value().empty());
  {
    auto txn = fx.store->BeginWrite().value();
    REQUIRE(txn->Savepoint().ok());
    t.seq = 1;
    REQUIRE(txn->InsertTap(t).ok());
    REQUIRE(txn->ReleaseSavepoint().ok());
    REQUIRE(txn->Savepoint().ok());
    t.seq = 2;
    REQUIRE(txn->InsertTap(t).ok());
    REQUIRE(txn->RollbackSavepoint().ok());
    REQUIRE(txn->Commit().ok());
  }
  auto taps = fx.store->ListTaps(fx.agent, 0, 100).value();
  REQUIRE(taps.size() == 1);
  CHECK(taps[0].seq == 1);
}

TEST_CASE("contiguous acknowledgement stops at a gap", "[store]") {
  Fixture fx;
  auto txn = fx.store->BeginWrite().value();
  TapRecord t;
  t.agent = fx.agent;
  t.card = Tok('1');
  t.facility = fx.facility;
  t.reader = "entrance";
  t.reason = Reason::kUnknownCard;
  for (std::uint64_t seq : {1, 2, 3, 6, 7}) {
    t.seq = seq;
    REQUIRE(txn->InsertTap(t).ok());
  }
  auto [through, gap] = txn->ContiguousThrough(fx.agent, 0).value();
  CHECK(through == 3);
  REQUIRE(gap);
  CHECK(*gap == wire::SeqGap{4, 5});
  auto [through2, gap2] = txn->ContiguousThrough(fx.agent, 6).value();
  CHECK(through2 == 7);
  CHECK_FALSE(gap2);
}

TEST_CASE("child days round-trip and open days are listed", "[store]") {
  Fixture fx;
  ChildDay day;
  day.date = LocalDate{2026, 11, 26};
  Visit v;
  v.arrival = T("2026-11-26T15:02:00+09:00");
  day.visits.push_back(v);
  Visit w;
  w.departure = T("2026-11-26T13:00:00+09:00");
  w.inferred = true;
  w.corrected = true;
  day.visits.push_back(w);
  day.accepted_taps = {*v.arrival};
  auto txn = fx.store->BeginWrite().value();
  REQUIRE(txn->SaveChildDay(fx.child, fx.facility, day).ok());
  CHECK(txn->LoadChildDay(fx.child, fx.facility, day.date).value() == day);
  ChildDay fresh = txn->LoadChildDay(fx.child, fx.facility, LocalDate{2026, 11, 27}).value();
  CHECK(fresh.visits.empty());
  CHECK(fresh.date == LocalDate{2026, 11, 27});
  REQUIRE(txn->Commit().ok());
  txn.reset();
  {
    // A state written by another tool (spaced JSON) is still read.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((fx.dir / "anshin.db").c_str(), &db) == SQLITE_OK);
    REQUIRE(
        sqlite3_exec(
            db,
            "UPDATE child_days SET state = '{ \"v\": [[1000, null, 1]], \"t\": [1000], \"c\": 0 }'",
            nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  txn.reset();  // releases the writer
  txn = fx.store->BeginWrite().value();
  ChildDay spaced = txn->LoadChildDay(fx.child, fx.facility, day.date).value();
  REQUIRE(spaced.visits.size() == 1);
  CHECK(spaced.visits[0].arrival == FromUnixMillis(1000));
  CHECK(spaced.visits[0].inferred);
  REQUIRE(txn->SaveChildDay(fx.child, fx.facility, day).ok());
  auto open = txn->OpenDays(fx.facility, day.date).value();
  REQUIRE(open.size() == 1);
  CHECK(open[0].child == fx.child);
  day.closing_alerted = true;
  REQUIRE(txn->SaveChildDay(fx.child, fx.facility, day).ok());
  CHECK(txn->OpenDays(fx.facility, day.date).value().empty());
}

TEST_CASE("assigning a card retires the previous one and versions the allowlist", "[store]") {
  Fixture fx;
  auto full0 = fx.store->Allowlist(0).value();
  CHECK(full0.version == 0);
  CHECK(full0.added.empty());

  REQUIRE(fx.store->AssignCard(fx.child, Tok('a'), fx.who).ok());
  auto v1 = fx.store->Allowlist(0).value();
  CHECK(v1.full);
  REQUIRE(v1.added.size() == 1);
  CHECK(v1.added[0] == Tok('a'));
  const std::uint64_t after_first = v1.version;

  REQUIRE(fx.store->AssignCard(fx.child, Tok('b'), fx.who).ok());
  auto cards = fx.store->ListCards(fx.child).value();
  REQUIRE(cards.size() == 2);
  int active = 0;
  for (const Card& c : cards) {
    if (c.status == CardStatus::kActive) {
      ++active;
      CHECK(c.token == Tok('b'));
    } else {
      CHECK(c.token == Tok('a'));
      CHECK(c.status == CardStatus::kRetired);
      CHECK(c.retired_at);
    }
  }
  CHECK(active == 1);

  auto delta = fx.store->Allowlist(after_first).value();
  CHECK_FALSE(delta.full);
  CHECK(delta.version > after_first);
  REQUIRE(delta.added.size() == 1);
  CHECK(delta.added[0] == Tok('b'));
  REQUIRE(delta.removed.size() == 1);
  CHECK(delta.removed[0] == Tok('a'));

  auto same = fx.store->Allowlist(delta.version).value();
  CHECK(same.added.empty());
  CHECK(same.removed.empty());
  CHECK_FALSE(same.full);
  CHECK(fx.store->Allowlist(delta.version + 100).value().full);  // a version we never issued

  // A lost card stays listed so its taps still reach the server.
  REQUIRE(fx.store->MarkCardLost(Tok('b'), fx.who).ok());
  auto full = fx.store->Allowlist(0).value();
  REQUIRE(full.added.size() == 1);
  CHECK(full.added[0] == Tok('b'));
  CHECK(fx.store->MarkCardLost(Tok('b'), fx.who).code() == Status::Code::kNotFound);
}

TEST_CASE("the schema enforces one active card per child", "[store]") {
  Fixture fx;
  REQUIRE(fx.store->AssignCard(fx.child, Tok('a'), fx.who).ok());
  CHECK(fx.store->AssignCard(fx.child, Tok('a'), fx.who).code() == Status::Code::kAlreadyExists);
  Child other;
  other.name = "x";
  other.facility = fx.facility;
  ChildId c2 = fx.store->AddChild(other, fx.who).value();
  CHECK(fx.store->AssignCard(c2, Tok('a'), fx.who).code() == Status::Code::kAlreadyExists);
}

TEST_CASE("guardians are verified by code with attempt and expiry limits", "[store]") {
  Fixture fx;
  Guardian g;
  g.child = fx.child;
  g.email = "parent@example.jp";
  VerificationTicket t = fx.store->AddGuardian(g, fx.who).value();
  CHECK(t.code.size() == 6);
  CHECK(t.link_token.size() == 32);
  CHECK_FALSE(fx.store->GetGuardian(t.guardian).value().verified);

  auto items = fx.store->ClaimOutbox(10, fx.who.at).value();
  REQUIRE(items.size() == 1);
  CHECK(items[0].kind == OutboxKind::kVerification);
  CHECK(items[0].verification_code == t.code);
  CHECK(items[0].link_token == t.link_token);
  CHECK(items[0].email == "parent@example.jp");

  std::string wrong = t.code == "000000" ? "111111" : "000000";
  for (int i = 0; i < kMaxVerificationAttempts; ++i) {
    CHECK(fx.store->VerifyGuardianByCode(t.guardian, wrong, fx.who.at).code() ==
          Status::Code::kInvalidArgument);
  }
  CHECK(fx.store->VerifyGuardianByCode(t.guardian, t.code, fx.who.at).code() ==
        Status::Code::kResourceExhausted);

  VerificationTicket t2 = fx.store->ResendVerification(t.guardian, fx.who).value();
  CHECK(fx.store
            ->VerifyGuardianByCode(t.guardian, t2.code,
                                   fx.who.at + kVerificationCodeLifetime + Millis(1))
            .code() == Status::Code::kFailedPrecondition);
  REQUIRE(fx.store->VerifyGuardianByCode(t.guardian, t2.code, fx.who.at + Millis(1000)).ok());
  CHECK(fx.store->GetGuardian(t.guardian).value().verified);
  CHECK(fx.store->ResendVerification(t.guardian, fx.who).status().code() ==
        Status::Code::kFailedPrecondition);
}

TEST_CASE("guardians are verified by link; sends are rate-limited; addresses are checked",
          "[store]") {
  Fixture fx;
  Guardian g;
  g.child = fx.child;
  g.email = "parent@example.jp";
  VerificationTicket t = fx.store->AddGuardian(g, fx.who).value();
  CHECK(fx.store->VerifyGuardianByLink(std::string(32, '0'), fx.who.at).status().code() ==
        Status::Code::kNotFound);
  CHECK(fx.store->VerifyGuardianByLink(t.link_token, fx.who.at).value() == t.guardian);
  CHECK(fx.store->GetGuardian(t.guardian).value().verified);

  Guardian h = g;
  h.email = "other@example.jp";
  VerificationTicket u = fx.store->AddGuardian(h, fx.who).value();  // send 1
  for (int i = 1; i < kMaxVerificationSendsPerDay; ++i)
    REQUIRE(fx.store->ResendVerification(u.guardian, fx.who).ok());
  CHECK(fx.store->ResendVerification(u.guardian, fx.who).status().code() ==
        Status::Code::kResourceExhausted);
  Actor tomorrow{fx.who.user, fx.who.at + std::chrono::hours(25)};
  CHECK(fx.store->ResendVerification(u.guardian, tomorrow).ok());
  // The superseded verification mails are not sent with dead codes.
  int live = 0;
  auto rows = fx.store->ListOutbox(fx.child).value();
  for (const OutboxRow& r : rows) {
    if (r.guardian == u.guardian && r.state == OutboxState::kQueued) ++live;
  }
  CHECK(live == 1);

  for (const char* bad : {"a@b.c\r\nBcc: x@y.z", "no-at.example.jp", "two@@example.jp",
                          "sp ace@example.jp", "x@nodot", "@example.jp", "x@example.jp\n"}) {
    Guardian b = g;
    b.email = bad;
    CHECK(fx.store->AddGuardian(b, fx.who).status().code() == Status::Code::kInvalidArgument);
  }
  Guardian third = g, fourth = g, fifth = g;
  third.email = "3@example.jp";
  fourth.email = "4@example.jp";
  fifth.email = "5@example.jp";
  REQUIRE(fx.store->AddGuardian(third, fx.who).ok());
  REQUIRE(fx.store->AddGuardian(fourth, fx.who).ok());
  CHECK(fx.store->AddGuardian(fifth, fx.who).status().code() == Status::Code::kFailedPrecondition);
}

TEST_CASE("the outbox is claimed, results recorded, and the send history kept", "[store]") {
  Fixture fx;
  GuardianId g = fx.VerifiedGuardian("parent@example.jp");
  auto verification = fx.store->ClaimOutbox(100, fx.who.at).value();
  REQUIRE(verification.size() == 1);
  SendResult vr{
      verification[0].id, SendResult::Outcome::kSent, fx.who.at, 250, "250 ok", "<v@x>", {}};
  REQUIRE(fx.store->RecordSendResults({&vr, 1}).ok());
  CHECK(fx.store->ListOutbox(fx.child).value()[0].state == OutboxState::kSent);
  const TimePoint t0 = T("2026-11-26T15:02:00+09:00");
  std::int64_t a = fx.QueueArrival(g, t0);
  std::int64_t b = fx.QueueArrival(g, t0 + Seconds(1));
  std::int64_t c = fx.QueueArrival(g, t0 + Seconds(2));

  auto stats = fx.store->GetOutboxStats(t0 + Seconds(60)).value();
  CHECK(stats.depth == 3);
  CHECK(stats.queued == 3);
  CHECK(stats.oldest_age == Seconds(60));

  auto items = fx.store->ClaimOutbox(2, t0 + Seconds(5)).value();
  REQUIRE(items.size() == 2);
  CHECK(items[0].id == a);
  CHECK(items[1].id == b);
  CHECK(items[0].child_name == "練馬 さくら");
  CHECK(items[0].facility_name == "光が丘第一学童クラブ");
  CHECK(items[0].facility_tz == "Asia/Tokyo");
  CHECK(items[0].tap_at == t0);
  CHECK(fx.store->ClaimOutbox(10, t0 + Seconds(5)).value().size() == 1);  // only c is left
  CHECK(fx.store->ClaimOutbox(10, t0 + Seconds(5)).value().empty());

  std::vector<SendResult> results(3);
  results[0] = {a,   SendResult::Outcome::kSent,  t0 + Seconds(6),
                250, "250 2.0.0 Ok: queued as X", "<a@x>",
                {}};
  results[1] = {b,
                SendResult::Outcome::kRetry,
                t0 + Seconds(6),
                451,
                "451 try later",
                "<b@x>",
                t0 + Seconds(66)};
  results[2] = {c, SendResult::Outcome::kFailed, t0 + Seconds(6), 550, "550 no such user", "<c@x>",
                {}};
  REQUIRE(fx.store->RecordSendResults(results).ok());

  auto rows = fx.store->ListOutbox(fx.child).value();
  auto find = [&](std::int64_t id) {
    for (const auto& r : rows) {
      if (r.id == id) return r;
    }
    FAIL("row missing");
    return OutboxRow{};
  };
  CHECK(find(a).state == OutboxState::kSent);
  CHECK(find(a).relay_reply == "250 2.0.0 Ok: queued as X");
  CHECK(find(a).sent_at == t0 + Seconds(6));
  CHECK(find(b).state == OutboxState::kRetrying);
  CHECK(find(b).attempts == 1);
  CHECK(find(c).state == OutboxState::kFailed);
  CHECK(fx.store->GetGuardian(g).value().bouncing);
  CHECK(fx.store->SendLog(b).value().size() == 1);
  CHECK(fx.store->SendLog(b).value()[0].smtp_code == 451);

  CHECK(fx.store->ClaimOutbox(10, t0 + Seconds(30)).value().empty());  // b not due yet
  auto again = fx.store->ClaimOutbox(10, t0 + Seconds(66)).value();
  REQUIRE(again.size() == 1);
  CHECK(again[0].id == b);
  CHECK(again[0].attempts == 1);

  stats = fx.store->GetOutboxStats(t0 + Seconds(70)).value();
  CHECK(stats.sent == 2);  // the verification mail and a
  CHECK(stats.sending == 1);
  CHECK(stats.failed == 1);
  CHECK(stats.depth == 1);
}

TEST_CASE("rows left in sending by a crash are queued again at start-up", "[store]") {
  fakes::TempDir dir{"store-test"};
  SqliteOptions o;
  o.path = dir / "anshin.db";
  const Actor who{"tester", T("2026-11-26T09:00:00+09:00")};
  {
    auto s = SqliteStore::Open(o).value();
    Facility f;
    f.code = "f";
    f.name = "F";
    Child c;
    c.name = "c";
    c.facility = s->AddFacility(f, who).value();
    Guardian g;
    g.child = s->AddChild(c, who).value();
    g.email = "p@example.jp";
    REQUIRE(s->AddGuardian(g, who).ok());
    REQUIRE(s->ClaimOutbox(10, who.at).value().size() == 1);
    // "crash": the store is dropped with the row in sending
  }
  auto s = SqliteStore::Open(o).value();
  CHECK(s->ClaimOutbox(10, who.at).value().empty());
  CHECK(s->RequeueStaleSending().value() == 1);
  CHECK(s->ClaimOutbox(10, who.at).value().size() == 1);
}

TEST_CASE("test mails go to verified, non-bouncing guardians", "[store]") {
  Fixture fx;
  fx.VerifiedGuardian("a@example.jp");
  Guardian g;
  g.child = fx.child;
  g.email = "b@example.jp";
  REQUIRE(fx.store->AddGuardian(g, fx.who).ok());  // unverified
  CHECK(fx.store->EnqueueTestMails(fx.who.at).value() == 1);
}

TEST_CASE("the audit log is hash-chained and append-only", "[store]") {
  Fixture fx;
  REQUIRE(fx.store->AppendAudit(fx.who, "test.event", "x=1").ok());
  auto entries = fx.store->ListAudit().value();
  REQUIRE(entries.size() >= 4);  // facility, agent, child, test
  CHECK(entries[0].action == "facility.add");
  CHECK(entries[0].actor == "tester");
  for (std::size_t i = 1; i < entries.size(); ++i)
    CHECK(entries[i].prev_hash == entries[i - 1].hash);
  REQUIRE(fx.store->VerifyAuditChain().ok());

  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open((fx.dir / "anshin.db").c_str(), &db) == SQLITE_OK);
  CHECK(sqlite3_exec(db, "UPDATE audit_log SET detail = 'forged' WHERE id = 2", nullptr, nullptr,
                     nullptr) != SQLITE_OK);
  CHECK(sqlite3_exec(db, "DELETE FROM audit_log", nullptr, nullptr, nullptr) != SQLITE_OK);
  // Someone with file access drops the trigger and edits a row: the chain shows it.
  REQUIRE(
      sqlite3_exec(
          db,
          "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET detail = 'forged' WHERE id = 2",
          nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
  Status s = fx.store->VerifyAuditChain();
  CHECK(s.code() == Status::Code::kInternal);
  CHECK(s.message().find("row 2") != std::string::npos);
}

TEST_CASE("agent status changes are audited; a revoked agent stays revoked", "[store]") {
  Fixture fx;
  REQUIRE(fx.store->SetAgentStatus("hikari-1-pc", AgentStatus::kDisabled, fx.who).ok());
  CHECK(fx.store->GetAgent("hikari-1-pc").value().status == AgentStatus::kDisabled);
  REQUIRE(fx.store->SetAgentStatus("hikari-1-pc", AgentStatus::kRevoked, fx.who).ok());
  CHECK(fx.store->SetAgentStatus("hikari-1-pc", AgentStatus::kActive, fx.who).code() ==
        Status::Code::kFailedPrecondition);
  CHECK(fx.store->SetAgentStatus("nobody", AgentStatus::kActive, fx.who).code() ==
        Status::Code::kNotFound);
  CHECK(fx.store->ListAudit().value().back().action == "agent.revoked");
}

}  // namespace
}  // namespace anshin::store
