// Upgrades: a database of every released schema version, built with that release's migrations
// only and filled with plain SQL valid for it, opens with today's store (which migrates it) and
// reads back row for row through the store interfaces; columns added later read as their
// defaults; the data migrations (v4's card history and lost flags) derive what they should;
// the upgraded database takes new writes. The latest version runs too, as the control: the
// same checks on a database that needs no migration.
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "common/sqlite/sqlite.hpp"
#include "services/audit_log.hpp"
#include "store/sqlite/schema.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "tests/fakes/temp_dir.hpp"

namespace anshin::store {
namespace {

// Times (Unix ms) of the rows: the facility's day is 2026-11-26 in Tokyo.
constexpr std::int64_t kCreated = 1795600000000;
constexpr std::int64_t kArrive = 1795672920000;     // 2026-11-26T13:02:00+09:00
const std::string kActive = std::string(32, 'a');   // child 1's card
const std::string kLost = std::string(32, 'b');     // child 2's card, reported lost
const std::string kRetired = std::string(32, 'c');  // child 1's old card
const std::string kStranger = std::string(32, 'd');
const std::string kNewCard = std::string(32, 'e');  // v4 rows: child 3's card

// The rows each version adds, in plain SQL valid for that version (ids are explicit, so the
// checks can name them). Index 0 is v1.
const std::vector<std::string>& RowsByVersion() {
  static const std::vector<std::string> kRows = {
      // v1: the registry, an agent, taps, a day, mail, an alert; the audit rows come apart.
      "INSERT INTO facilities(id, code, name, tz_name, double_tap_window_s, departure_from_s, "
      "  departure_margin_min, closing_time_s, closing_grace_min, late_after_s, opens_s, "
      "  closes_s, created_at) VALUES (1, 'hikari-1', '光が丘第一学童クラブ', 'Asia/Tokyo', "
      "  90, 59400, 45, 66600, 20, 600, 45000, 66600, 1795600000000);"
      "INSERT INTO facilities(id, code, name, created_at) "
      "  VALUES (2, 'asahi-2', '旭町学童クラブ', 1795600000000);"
      "INSERT INTO agents(id, name, facility_id, cert_sha256, status, enrolled_at, last_contact,"
      "  last_health, skew_ms, acked_through, gap_from, gap_to) VALUES (1, 'hikari-1-entrance',"
      "  1, '" +
          std::string(64, 'f') +
          "', 'active', 1795600000000, 1795672930000, "
          "  '{\"reader_state\":\"ok\",\"queue_depth\":0}', -1500, 42, 44, 45);"
          "INSERT INTO agents(id, name, facility_id, cert_sha256, status, enrolled_at) "
          "  VALUES (2, 'asahi-2-door', 2, '" +
          std::string(64, '0') +
          "', 'revoked', 1795600000000);"
          "INSERT INTO children(id, name, facility_id, dep_mon_s, dep_wed_s, created_at) "
          "  VALUES (1, '練馬 さくら', 1, 63000, 64800, 1795600000000);"
          "INSERT INTO children(id, name, facility_id, status, withdrawn_at, created_at) "
          "  VALUES (2, '練馬 ゆい', 1, 'withdrawn', 1795650000000, 1795600000000);"
          "INSERT INTO guardians(id, child_id, email, verified, verified_at, wants_arrival, "
          "  wants_departure, charset, created_at) VALUES (1, 1, 'sakura.parent@example.jp', 1, "
          "  1795610000000, 0, 1, 'iso-2022-jp', 1795600000000);"
          "INSERT INTO guardians(id, child_id, email, code_hash, code_expires_at, code_attempts, "
          "  link_hash, sends_window_start, sends_in_window, bouncing, created_at) VALUES (2, 1, "
          "  'sakura.other@example.jp', 'c0de', 1795620000000, 2, 'l1nk', 1795600000000, 1, 1, "
          "  1795600000000);"
          "INSERT INTO cards(token, child_id, status, issued_at, retired_at) VALUES "
          "  ('" +
          kRetired +
          "', 1, 'retired', 1795580000000, 1795590000000),"
          "  ('" +
          kLost +
          "', 2, 'lost', 1795585000000, NULL),"
          "  ('" +
          kActive +
          "', 1, 'active', 1795590000000, NULL);"
          "INSERT INTO allowlist_changes(version, token, op, at) VALUES "
          "  (1, '" +
          kRetired + "', 'add', 1795580000000), (2, '" + kLost +
          "', 'add', 1795585000000),"
          "  (3, '" +
          kRetired + "', 'remove', 1795590000000), (4, '" + kActive +
          "', 'add', "
          "  1795590000000);"
          "INSERT INTO taps(id, agent_id, seq, card_token, facility_id, reader, direction, "
          "tapped_at,"
          "  corrected_at, received_at, reason, child_id, late) VALUES "
          "  (1, 1, 41, '" +
          kActive +
          "', 1, 'entrance', 'auto', 1795672921500, 1795672920000, "
          "  1795672930000, 'arrival', 1, 0),"
          "  (2, 1, 42, '" +
          kStranger +
          "', 1, 'entrance', 'entry', 1795672981500, 1795672980000, "
          "  1795673600000, 'unknown_card', NULL, 1);"
          "INSERT INTO child_days(child_id, facility_id, date, state, open_visit, closing_alerted) "
          "  VALUES (1, 1, '2026-11-26', '{\"v\":[[1795672920000,null,0]],\"t\":[1795672920000],"
          "  \"c\":0}', 1, 0);"
          "INSERT INTO outbox(id, kind, guardian_id, child_id, facility_id, tap_at, late, state, "
          "  attempts, next_attempt_at, created_at, relay_reply, message_id, sent_at) VALUES (1, "
          "  'departure', 1, 1, 1, 1795672920000, 0, 'sent', 1, 1795672931000, 1795672930000, "
          "  '250 2.0.0 Ok: queued', '<m1@kids-anshin.example.jp>', 1795672932000);"
          "INSERT INTO outbox(id, kind, guardian_id, verification_code, link_token, state, "
          "attempts,"
          "  next_attempt_at, created_at, last_error) VALUES (2, 'verification', 2, '123456', "
          "  't0ken', 'retrying', 2, 1795673000000, 1795672000000, '451 4.7.1 try later');"
          "INSERT INTO send_log(outbox_id, at, result, smtp_code, reply, message_id) VALUES "
          "  (1, 1795672932000, 'sent', 250, '250 2.0.0 Ok: queued', "
          "'<m1@kids-anshin.example.jp>');"
          "INSERT INTO alerts(id, kind, facility_id, child_id, at, detail) VALUES "
          "  (1, 'lost_card_seen', 1, 2, 1795672990000, 'card " +
          kLost + "');",
      // v2: scheduled job runs.
      "INSERT INTO job_runs(job, period, at) VALUES ('monthly-test:hikari-1', '2026-11', "
      "  1795600000000);",
      // v3: a child with the application form's fields.
      "INSERT INTO children(id, name, facility_id, dep_fri_s, created_at, child_number, kana, "
      "  grade, attend_days) VALUES (3, '練馬 はると', 2, 61200, 1795600000000, 'N-0003', "
      "  'ねりま はると', 3, 42);",
      // v4: the status history a v4 release keeps of the cards above (what its migration
      // derives on an upgrade), the lost card listed again as lost, and a new card.
      "INSERT INTO card_status_history(token, status, at) VALUES "
      "  ('" +
          kRetired + "', 'active', 1795580000000), ('" + kLost +
          "', 'active', 1795585000000),"
          "  ('" +
          kActive + "', 'active', 1795590000000), ('" + kRetired +
          "', 'retired', "
          "  1795590000000), ('" +
          kLost +
          "', 'lost', 1795585000000);"
          "INSERT INTO allowlist_changes(version, token, op, at, lost) VALUES "
          "  (5, '" +
          kLost +
          "', 'add', 1795600000000, 1);"
          "INSERT INTO cards(token, child_id, status, issued_at) VALUES ('" +
          kNewCard +
          "', 3, "
          "  'active', 1795660000000);"
          "INSERT INTO card_status_history(token, status, at) VALUES ('" +
          kNewCard +
          "', "
          "  'active', 1795660000000);"
          "INSERT INTO allowlist_changes(version, token, op, at, lost) VALUES (6, '" +
          kNewCard + "', 'add', 1795660000000, 0);",
      // v5: who acknowledged an alert, when, with a note.
      "INSERT INTO alerts(id, kind, facility_id, child_id, at, detail, acknowledged, "
      "  acknowledged_at, acknowledged_by, ack_note) VALUES (2, 'no_departure', 1, 1, "
      "  1795673000000, 'date 2026-11-27', 1, 1795674000000, 'callcenter1', 'phoned home');",
      // v6: a staff account with a session, a shipped letter, a facility's expectations and
      // calendar, an absence, a purged child.
      "INSERT INTO staff(id, name, role, facility_id, email, password_hash, created_at, "
      "  password_changed_at) VALUES (1, 'hikari-staff', 'facility', 1, 'staff@example.jp', "
      "  '$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA', 1795600000000, 1795600000000);"
      "INSERT INTO staff_sessions(id_hash, staff_id, csrf_token, created_at, last_seen_at) "
      "  VALUES ('5e55', 1, 'c5rf', 1795600000000, 1795600100000);"
      "UPDATE cards SET shipped_at = 1795661000000 WHERE token = '" +
          kNewCard +
          "';"
          "UPDATE facilities SET expected_arrival_by_s = 57600 WHERE id = 1;"
          "INSERT INTO facility_calendar(facility_id, date, closed, expected_arrival_by_s) "
          "  VALUES (1, '2026-12-29', 1, NULL), (1, '2026-12-25', 0, 36000);"
          "INSERT INTO absences(child_id, from_date, to_date, reason, recorded_by, recorded_at) "
          "  VALUES (3, '2026-12-07', '2026-12-09', 'family trip', 'callcenter1', "
          "1795600000000);",
      // v7: a forgotten departure recorded by staff under the facility's console uploader, an
      // agent's certificate expiry, a clock-skew sample.
      "INSERT INTO agents(id, name, facility_id, cert_sha256, enrolled_at, kind) "
      "  VALUES (3, 'console:hikari-1', 1, '', 1795600000000, 'console');"
      "INSERT INTO taps(agent_id, seq, card_token, facility_id, reader, direction, tapped_at, "
      "  corrected_at, received_at, reason, child_id, recorded_by, note) VALUES (3, 1, '" +
          kActive +
          "', 1, 'console', 'exit', 1795690000000, 1795690000000, 1795690000000, "
          "  'departure', 1, 'staff:hikari-staff', 'left with grandmother');"
          "UPDATE agents SET cert_not_after = 1827000000000 WHERE id = 1;"
          "INSERT INTO agent_skew_samples(agent_id, at, skew_ms) VALUES (1, 1795672930000, -1500);",
      // v8: the departure notice of that recorded tap, marked as staff recorded.
      "INSERT INTO outbox(id, kind, guardian_id, child_id, facility_id, tap_at, late, state, "
      "  attempts, next_attempt_at, created_at, staff_recorded) VALUES (8, 'departure', 1, 1, 1, "
      "  1795690000000, 0, 'queued', 0, 1795690000000, 1795690000000, 1);",
      // v9: a guardian's "not arrived" mail (the facility lets it be mailed), sent once.
      "UPDATE facilities SET notify_not_arrived = 1 WHERE id = 1;"
      "INSERT INTO outbox(id, kind, guardian_id, child_id, facility_id, tap_at, state, attempts, "
      "  next_attempt_at, created_at, relay_reply, sent_at) VALUES (9, 'not_arrived', 1, 1, 1, "
      "  1795762800000, 'sent', 1, 1795762860000, 1795762860000, '250 2.0.0 Ok', "
      "  1795762861000);"
      "INSERT INTO send_log(outbox_id, at, result, smtp_code, reply) VALUES (9, 1795762861000, "
      "  'sent', 250, '250 2.0.0 Ok');",
  };
  return kRows;
}

// The audit rows, with their real hash chain (inserted as plain SQL).
void InsertAudit(sqlite::Db& db) {
  std::string prev(services::kAuditGenesisHash);
  int id = 0;
  for (auto [action, detail] : {std::pair{"facility.add", "facility 1 hikari-1"},
                                std::pair{"card.assign", "child 1 card aaaa"}}) {
    const TimePoint at = FromUnixMillis(kCreated + 1000 * ++id);
    const std::string hash = services::AuditHash(prev, at, "operator", action, detail);
    auto q = db.PrepareUncached(
                   "INSERT INTO audit_log(id, at, actor, action, detail, prev_hash, hash) "
                   "VALUES (?, ?, 'operator', ?, ?, ?, ?)")
                 .value();
    q.Bind(1, id).Bind(2, ToUnixMillis(at)).Bind(3, action).Bind(4, detail).Bind(5, prev);
    q.Bind(6, hash);
    REQUIRE(q.Run().ok());
    prev = hash;
  }
}

// The database of a release with schema `version`: its migrations and its rows, closed.
void BuildRelease(const std::filesystem::path& path, int version) {
  auto db = sqlite::Db::Open(path, sqlite::Db::Options{}).value();
  REQUIRE(sqlite_impl::ApplyMigrationsThrough(*db, version).ok());
  for (int v = 1; v <= version; ++v) {
    INFO("rows of v" << v);
    Status s = db->Exec(RowsByVersion()[v - 1].c_str());
    REQUIRE(s.ok());
  }
  InsertAudit(*db);
  auto q = db->PrepareUncached("SELECT MAX(version) FROM schema_version").value();
  REQUIRE(q.Step().value());
  REQUIRE(q.Int(0) == version);
}

TimePoint Ms(std::int64_t ms) { return FromUnixMillis(ms); }

void CheckRegistry(ReadTxn& txn, int from) {
  const Facility f = txn.facilities().FindByCode("hikari-1").value().value();
  CHECK(f.id == FacilityId{1});
  CHECK(f.name == "光が丘第一学童クラブ");
  CHECK(f.tz_name == "Asia/Tokyo");
  CHECK(f.rules.double_tap_window == Seconds(90));
  CHECK(f.rules.departure_from == LocalTime::HM(16, 30));
  CHECK(f.rules.departure_margin == Minutes(45));
  CHECK(f.rules.closing_time == LocalTime::HM(18, 30));
  CHECK(f.rules.closing_grace == Minutes(20));
  CHECK(f.rules.late_after == Seconds(600));
  CHECK(f.opens == LocalTime::HM(12, 30));
  CHECK(f.closes == LocalTime::HM(18, 30));
  // A facility written with the schema's defaults reads as the record's defaults.
  const Facility d = txn.facilities().Get(FacilityId{2}).value();
  const Facility defaults;
  CHECK(d.tz_name == defaults.tz_name);
  CHECK(d.rules.double_tap_window == defaults.rules.double_tap_window);
  CHECK(d.rules.departure_from == defaults.rules.departure_from);
  CHECK(d.rules.departure_margin == defaults.rules.departure_margin);
  CHECK(d.rules.closing_time == defaults.rules.closing_time);
  CHECK(d.rules.closing_grace == defaults.rules.closing_grace);
  CHECK(d.rules.late_after == defaults.rules.late_after);
  CHECK(d.opens == defaults.opens);
  CHECK(d.closes == defaults.closes);

  const Child sakura = txn.children().Get(ChildId{1}).value();
  CHECK(sakura.name == "練馬 さくら");
  CHECK(sakura.facility == FacilityId{1});
  CHECK(sakura.status == ChildStatus::kEnrolled);
  CHECK(sakura.schedule.expected_departure[1] == LocalTime::HM(17, 30));
  CHECK(sakura.schedule.expected_departure[3] == LocalTime::HM(18, 0));
  CHECK_FALSE(sakura.schedule.expected_departure[0].has_value());
  CHECK_FALSE(sakura.schedule.expected_departure[5].has_value());
  // v3's columns on a row from before: their defaults.
  CHECK_FALSE(sakura.number.has_value());
  CHECK(sakura.kana.empty());
  CHECK_FALSE(sakura.grade.has_value());
  CHECK(sakura.attend_days.empty());
  const Child yui = txn.children().Get(ChildId{2}).value();
  CHECK(yui.status == ChildStatus::kWithdrawn);
  CHECK(yui.withdrawn_at == Ms(1795650000000));
  if (from >= 3) {
    const Child haruto = txn.children().Get(ChildId{3}).value();
    CHECK(haruto.number == "N-0003");
    CHECK(haruto.kana == "ねりま はると");
    CHECK(haruto.grade == 3);
    CHECK(haruto.attend_days.bits == 42);
    CHECK(haruto.schedule.expected_departure[5] == LocalTime::HM(17, 0));
    CHECK(txn.children().FindByNumber("N-0003").value() == ChildId{3});
  } else {
    CHECK(txn.children().Get(ChildId{3}).status().code() == Status::Code::kNotFound);
  }

  const Guardian g1 = txn.guardians().Get(GuardianId{1}).value();
  CHECK(g1.child == ChildId{1});
  CHECK(g1.email == "sakura.parent@example.jp");
  CHECK(g1.verified);
  CHECK_FALSE(g1.wants_arrival);
  CHECK(g1.wants_departure);
  CHECK(g1.charset == Charset::kIso2022Jp);
  CHECK_FALSE(g1.bouncing);
  const Guardian g2 = txn.guardians().Get(GuardianId{2}).value();
  CHECK_FALSE(g2.verified);
  CHECK(g2.wants_arrival);  // defaults
  CHECK(g2.charset == Charset::kUtf8);
  CHECK(g2.bouncing);
  const VerificationState v1 = txn.guardians().Verification(GuardianId{1}).value();
  CHECK(v1.verified_at == Ms(1795610000000));
  CHECK(v1.code_attempts == 0);
  const VerificationState v2 = txn.guardians().Verification(GuardianId{2}).value();
  CHECK(v2.code_hash == "c0de");
  CHECK(v2.code_expires_at == Ms(1795620000000));
  CHECK(v2.code_attempts == 2);
  CHECK(v2.link_hash == "l1nk");
  CHECK(v2.sends_window_start == Ms(1795600000000));
  CHECK(v2.sends_in_window == 1);
  CHECK(txn.guardians().FindByLinkHash("l1nk").value() == GuardianId{2});
  CHECK(txn.guardians().NoticeTargets(ChildId{1}, NoticeKind::kDeparture).value() ==
        std::vector<GuardianId>{GuardianId{1}});
  CHECK(txn.guardians().NoticeTargets(ChildId{1}, NoticeKind::kArrival).value().empty());
}

CardToken Token(const std::string& hex) { return CardToken::Parse(hex).value(); }

void CheckCards(ReadTxn& txn, int from) {
  const Card active = txn.cards().Find(Token(kActive)).value().value();
  CHECK(active.child == ChildId{1});
  CHECK(active.status == CardStatus::kActive);
  CHECK(active.issued_at == Ms(1795590000000));
  CHECK(txn.cards().Find(Token(kLost)).value()->status == CardStatus::kLost);
  const Card retired = txn.cards().Find(Token(kRetired)).value().value();
  CHECK(retired.status == CardStatus::kRetired);
  CHECK(retired.retired_at == Ms(1795590000000));
  CHECK(txn.cards().ActiveOf(ChildId{1}).value()->token == Token(kActive));

  // v4 derived each card's history from its row (from v4 on, the rows' own history is kept).
  using H = std::vector<std::pair<CardStatus, TimePoint>>;
  auto history = [&](const std::string& token) {
    H out;
    const std::vector<CardStatusChange> changes = txn.cards().StatusHistory(Token(token)).value();
    for (const CardStatusChange& c : changes) {
      out.emplace_back(c.status, c.at);
    }
    return out;
  };
  CHECK(history(kActive) == H{{CardStatus::kActive, Ms(1795590000000)}});
  CHECK(history(kRetired) ==
        H{{CardStatus::kActive, Ms(1795580000000)}, {CardStatus::kRetired, Ms(1795590000000)}});
  CHECK(history(kLost) ==
        H{{CardStatus::kActive, Ms(1795585000000)}, {CardStatus::kLost, Ms(1795585000000)}});

  std::vector<CardToken> listed = {Token(kActive), Token(kLost)};
  if (from >= 4) listed.push_back(Token(kNewCard));
  CHECK(txn.cards().AllowlistTokens().value() == listed);
  CHECK(txn.cards().AllowlistLostSince(0).value() == std::vector<CardToken>{Token(kLost)});
  CHECK(txn.cards().OldestAllowlistVersion().value() == 1);
  // v4 lists the lost card again as version 5, flagged lost, so agents learn it is lost.
  CHECK(txn.cards().AllowlistLostSince(4).value() == std::vector<CardToken>{Token(kLost)});
  CHECK(txn.cards().AllowlistVersion().value() == (from >= 4 ? 6 : 5));
  if (from >= 4) {
    CHECK(history(kNewCard) == H{{CardStatus::kActive, Ms(1795660000000)}});
    CHECK(txn.cards().AllowlistChangesSince(5).value().size() == 1);
  }
}

void CheckActivity(ReadTxn& txn, int from) {
  const Agent a = txn.agents().Find("hikari-1-entrance").value().value();
  CHECK(a.id == AgentId{1});
  CHECK(a.facility == FacilityId{1});
  CHECK(a.cert_sha256 == std::string(64, 'f'));
  CHECK(a.status == AgentStatus::kActive);
  CHECK(a.enrolled_at == Ms(kCreated));
  CHECK(a.last_contact == Ms(1795672930000));
  CHECK(a.last_health_json == "{\"reader_state\":\"ok\",\"queue_depth\":0}");
  CHECK(a.skew_ms == -1500);
  CHECK(a.acked_through == 42);
  REQUIRE(a.gap.has_value());
  CHECK(a.gap->from == 44);
  CHECK(a.gap->to == 45);
  const Agent revoked = txn.agents().Find("asahi-2-door").value().value();
  CHECK(revoked.status == AgentStatus::kRevoked);
  CHECK_FALSE(revoked.last_contact.has_value());
  CHECK(revoked.acked_through == 0);
  CHECK_FALSE(revoked.gap.has_value());

  const TapRecord t = txn.attendance().FindTap(AgentId{1}, 41).value().value();
  CHECK(t.card == Token(kActive));
  CHECK(t.facility == FacilityId{1});
  CHECK(t.reader == "entrance");
  CHECK(t.direction == Direction::kAuto);
  CHECK(t.tapped_at == Ms(1795672921500));
  CHECK(t.corrected_at == Ms(kArrive));
  CHECK(t.received_at == Ms(1795672930000));
  CHECK(t.reason == Reason::kArrival);
  CHECK(t.child == ChildId{1});
  CHECK_FALSE(t.late);
  const TapRecord u = txn.attendance().FindTap(AgentId{1}, 42).value().value();
  CHECK(u.reason == Reason::kUnknownCard);
  CHECK(u.direction == Direction::kEntry);
  CHECK_FALSE(u.child.has_value());
  CHECK(u.late);
  CHECK(txn.attendance().TapsOfAgent(AgentId{1}, 0, 10).value().size() == 2);
  const auto [through, gap] = txn.attendance().ContiguousThrough(AgentId{1}, 40).value();
  CHECK(through == 42);
  CHECK_FALSE(gap.has_value());

  const LocalDate day = LocalDate::Parse("2026-11-26").value();
  const ChildDay cd = txn.attendance().LoadChildDay(ChildId{1}, FacilityId{1}, day).value();
  REQUIRE(cd.visits.size() == 1);
  CHECK(cd.visits[0].arrival == Ms(kArrive));
  CHECK(cd.visits[0].open());
  CHECK(cd.accepted_taps == std::vector<TimePoint>{Ms(kArrive)});
  const auto open = txn.attendance().OpenDays(FacilityId{1}, day).value();
  REQUIRE(open.size() == 1);
  CHECK(open[0].child == ChildId{1});

  const auto outbox = txn.outbox().List(std::nullopt).value();
  // v8 adds a staff-recorded notice, v9 a not-arrived mail.
  REQUIRE(outbox.size() == (from >= 9 ? 4u : from >= 8 ? 3u : 2u));
  CHECK(outbox[0].id == 1);
  CHECK(outbox[0].message.kind == OutboxKind::kDeparture);
  CHECK(outbox[0].message.guardian == GuardianId{1});
  CHECK(outbox[0].message.child == ChildId{1});
  CHECK(outbox[0].message.facility == FacilityId{1});
  CHECK(outbox[0].message.tap_at == Ms(kArrive));
  CHECK_FALSE(outbox[0].message.arrival_at.has_value());
  CHECK(outbox[0].state == OutboxState::kSent);
  CHECK(outbox[0].attempts == 1);
  CHECK(outbox[0].relay_reply == "250 2.0.0 Ok: queued");
  CHECK(outbox[0].message_id == "<m1@kids-anshin.example.jp>");
  CHECK(outbox[0].sent_at == Ms(1795672932000));
  CHECK(outbox[1].message.kind == OutboxKind::kVerification);
  CHECK(outbox[1].message.verification_code == "123456");
  CHECK(outbox[1].message.link_token == "t0ken");
  CHECK(outbox[1].state == OutboxState::kRetrying);
  CHECK(outbox[1].attempts == 2);
  CHECK(outbox[1].next_attempt_at == Ms(1795673000000));
  CHECK(outbox[1].last_error == "451 4.7.1 try later");
  const auto log = txn.outbox().SendLog(1).value();
  REQUIRE(log.size() == 1);
  CHECK(log[0].result == "sent");
  CHECK(log[0].smtp_code == 250);
  CHECK(txn.outbox().Stats(Ms(1795673000000)).value().retrying == 1);

  const auto alerts = txn.alerts().List(false).value();
  REQUIRE(alerts.size() == (from >= 5 ? 2u : 1u));
  if (from >= 5) {
    CHECK(alerts[1].acknowledged);
    CHECK(alerts[1].acknowledged_at == Ms(1795674000000));
    CHECK(alerts[1].acknowledged_by == "callcenter1");
    CHECK(alerts[1].ack_note == "phoned home");
  }
  CHECK(alerts[0].acknowledged_by.empty());
  CHECK_FALSE(alerts[0].acknowledged_at.has_value());
  CHECK(alerts[0].kind == AlertKind::kLostCardSeen);
  CHECK(alerts[0].facility == FacilityId{1});
  CHECK(alerts[0].child == ChildId{2});
  CHECK(alerts[0].at == Ms(1795672990000));
  CHECK(alerts[0].detail == "card " + kLost);
  CHECK_FALSE(alerts[0].acknowledged);

  const auto audit = txn.audit().List().value();
  REQUIRE(audit.size() == 2);
  CHECK(audit[1].action == "card.assign");
  CHECK(audit[1].prev_hash == audit[0].hash);
  CHECK(services::VerifyAuditChain(txn).ok());

  CHECK(txn.jobs().HasRun("monthly-test:hikari-1", "2026-11").value() == (from >= 2));
}

// The upgraded database takes today's writes, those of the newer columns included.
void CheckWrites(Store& store) {
  auto txn = store.BeginWrite().value();
  Child c;
  c.name = "練馬 そら";
  c.facility = FacilityId{1};
  c.number = "N-0010";
  c.kana = "ねりま そら";
  c.grade = 1;
  c.attend_days.Add(2);
  const ChildId id = txn->children().Insert(c, Ms(1795700000000)).value();
  Card card;
  card.token = Token(std::string(32, '9'));
  card.child = id;
  card.issued_at = Ms(1795700000000);
  REQUIRE(txn->cards().Insert(card).ok());
  REQUIRE(txn->cards().SetStatus(Token(kActive), CardStatus::kLost, Ms(1795700001000)).ok());
  REQUIRE(txn->cards().RecordAllowlistLost(Token(kActive), true, Ms(1795700001000)).ok());
  REQUIRE(txn->jobs().RecordRun("monthly-test:hikari-1", "2026-12", Ms(1795700000000)).ok());
  REQUIRE(txn->Commit().ok());
  auto read = store.BeginRead().value();
  CHECK(read->children().FindByNumber("N-0010").value() == id);
  CHECK(read->cards().StatusHistory(Token(kActive)).value().size() == 2);
  CHECK(read->cards().AllowlistLostSince(0).value().size() == 2);
}

// The console's and the year's tables, read as plain SQL (v6 rows are there from v6 on; the
// migration adds the tables empty to an older database).
std::int64_t Count(sqlite::Db& db, const char* sql) {
  auto q = db.PrepareUncached(sql).value();
  REQUIRE(q.Step().value());
  return q.Int(0);
}

void CheckV6Rows(const std::filesystem::path& path, int from) {
  auto db = sqlite::Db::Open(path, sqlite::Db::Options{}).value();
  const std::int64_t want = from >= 6 ? 1 : 0;
  CHECK(Count(*db,
              "SELECT COUNT(*) FROM staff WHERE name = 'hikari-staff' AND role = "
              "'facility' AND facility_id = 1 AND status = 'active' AND failed_logins = 0") ==
        want);
  CHECK(Count(*db, "SELECT COUNT(*) FROM staff_sessions WHERE staff_id = 1") == want);
  CHECK(Count(*db, "SELECT COUNT(*) FROM cards WHERE shipped_at = 1795661000000") == want);
  CHECK(Count(*db, "SELECT COUNT(*) FROM facilities WHERE expected_arrival_by_s = 57600") == want);
  CHECK(Count(*db, "SELECT COUNT(*) FROM facility_calendar") == 2 * want);
  CHECK(Count(*db, "SELECT COUNT(*) FROM absences WHERE child_id = 3") == want);
  CHECK(Count(*db, "SELECT COUNT(*) FROM guardians WHERE removed_at IS NULL") == 2);
  // The rebuilt alerts table kept every alert with its acknowledgement, and takes new kinds.
  CHECK(Count(*db, "SELECT COUNT(*) FROM alerts WHERE mailed_at IS NULL") == (from >= 5 ? 2 : 1));
  CHECK(Count(*db, "SELECT COUNT(*) FROM alerts WHERE ack_note = 'phoned home'") ==
        (from >= 5 ? 1 : 0));
  CHECK(db->Exec("INSERT INTO alerts(kind, at) VALUES ('agent_silent', 1795700000000)").ok());
  CHECK_FALSE(db->Exec("INSERT INTO alerts(kind, at) VALUES ('no_such_kind', 1)").ok());
}

void CheckV7Rows(const std::filesystem::path& path, int from) {
  auto db = sqlite::Db::Open(path, sqlite::Db::Options{}).value();
  const std::int64_t want = from >= 7 ? 1 : 0;
  // Taps of older releases were all a card's: no recorder, no note; every agent is a PC.
  CHECK(Count(*db, "SELECT COUNT(*) FROM taps WHERE recorded_by = '' AND note = ''") ==
        Count(*db, "SELECT COUNT(*) FROM taps") - want);
  CHECK(Count(*db, "SELECT COUNT(*) FROM taps WHERE recorded_by = 'staff:hikari-staff'") == want);
  CHECK(Count(*db, "SELECT COUNT(*) FROM agents WHERE kind = 'console'") == want);
  CHECK(Count(*db, "SELECT COUNT(*) FROM agents WHERE kind = 'pc'") == 2);
  CHECK(Count(*db, "SELECT COUNT(*) FROM agents WHERE cert_not_after IS NOT NULL") == want);
  CHECK(Count(*db, "SELECT COUNT(*) FROM agent_skew_samples") == want);
  CHECK_FALSE(db->Exec("UPDATE agents SET kind = 'phone' WHERE id = 1").ok());
}

void CheckV8Rows(Store& store, int from) {
  auto txn = store.BeginRead().value();
  const std::vector<OutboxRow> rows = txn->outbox().List(std::nullopt).value();
  int staff_recorded = 0;
  for (const OutboxRow& r : rows) {
    staff_recorded += r.message.staff_recorded ? 1 : 0;
    if (r.id == 8) CHECK(r.message.staff_recorded);
  }
  // Older releases' notices were all of a card's tap.
  CHECK(staff_recorded == (from >= 8 ? 1 : 0));
}

// The outbox rebuilt by v9 (its kind CHECK grew) kept its rows, indexes and send history;
// send_log still refers to it, and every reference holds.
void CheckV9Rows(Store& store, const std::filesystem::path& path, int from) {
  {
    auto txn = store.BeginRead().value();
    const std::vector<OutboxRow> rows = txn->outbox().List(std::nullopt).value();
    int not_arrived = 0;
    for (const OutboxRow& r : rows) {
      if (r.message.kind != OutboxKind::kNotArrived) continue;
      ++not_arrived;
      CHECK(r.id == 9);
      CHECK(r.message.tap_at == Ms(1795762800000));
      CHECK(r.state == OutboxState::kSent);
    }
    CHECK(not_arrived == (from >= 9 ? 1 : 0));
    CHECK(txn->outbox().SendLog(1).value().size() == 1);
    CHECK(txn->facilities().Get(FacilityId{1}).value().notify_not_arrived == (from >= 9));
  }
  auto db = sqlite::Db::Open(path, sqlite::Db::Options{}).value();
  CHECK(Count(*db, "SELECT COUNT(*) FROM pragma_foreign_key_check") == 0);
  CHECK(Count(*db,
              "SELECT COUNT(*) FROM pragma_foreign_key_list('send_log') WHERE \"table\" = "
              "'outbox' AND \"from\" = 'outbox_id'") == 1);
  CHECK(Count(*db,
              "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'outbox' "
              "AND name IN ('outbox_due', 'outbox_pending', 'outbox_child', "
              "'outbox_guardian')") == 4);
  CHECK(Count(*db, "SELECT COUNT(*) FROM sqlite_schema WHERE name LIKE 'outbox_v%'") == 0);
  CHECK(db->Exec("INSERT INTO outbox(kind, guardian_id, child_id, next_attempt_at, created_at) "
                 "VALUES ('not_arrived', 1, 1, 1, 1)")
            .ok());
  CHECK_FALSE(db->Exec("INSERT INTO outbox(kind, guardian_id, next_attempt_at, created_at) "
                       "VALUES ('no_such_kind', 1, 1, 1)")
                  .ok());
  // Foreign keys hold again after the rebuild: a send_log row must name a real mail.
  CHECK_FALSE(
      db->Exec("INSERT INTO send_log(outbox_id, at, result) VALUES (9999, 1, 'sent')").ok());
}

TEST_CASE("every released schema version upgrades to today's with every row intact",
          "[store][sqlite][upgrade]") {
  const int latest = LatestSchemaVersion();
  for (int from = 1; from <= latest; ++from) {
    INFO("from schema v" << from << (from == latest ? " (the control: nothing to migrate)" : ""));
    fakes::TempDir dir{"store-upgrade"};
    const auto path = dir / "anshin.db";
    BuildRelease(path, from);
    auto store = SqliteStore::Open(SqliteOptions{.path = path}).value();
    CHECK(store->SchemaVersion().value() == latest);
    {
      auto txn = store->BeginRead().value();
      CheckRegistry(*txn, from);
      CheckCards(*txn, from);
      CheckActivity(*txn, from);
    }
    CheckWrites(*store);
    CheckV6Rows(path, from);
    CheckV7Rows(path, from);
    CheckV8Rows(*store, from);
    CheckV9Rows(*store, path, from);
  }
}

TEST_CASE("the migration that rebuilds the outbox turns foreign keys back on",
          "[store][sqlite][upgrade]") {
  fakes::TempDir dir{"store-upgrade-fk"};
  const auto path = dir / "anshin.db";
  BuildRelease(path, 8);
  auto db = sqlite::Db::Open(path, sqlite::Db::Options{}).value();
  REQUIRE(sqlite_impl::ApplyMigrationsThrough(*db, 9).ok());
  CHECK(Count(*db, "PRAGMA foreign_keys") == 1);
  CHECK(Count(*db, "SELECT MAX(version) FROM schema_version") == 9);
  CHECK_FALSE(db->Exec("DELETE FROM outbox WHERE id = 1").ok());  // send_log refers to it
}

TEST_CASE("the upgrade test has rows for every schema version", "[store][sqlite][upgrade]") {
  // A new migration needs its representative rows in RowsByVersion() (and its checks above):
  // the database of its release is then the starting point of the next upgrade.
  CHECK(RowsByVersion().size() == static_cast<std::size_t>(LatestSchemaVersion()));
  int expected = 1;
  for (const auto& m : sqlite_impl::SqliteMigrations()) CHECK(m.version == expected++);
}

}  // namespace
}  // namespace anshin::store
