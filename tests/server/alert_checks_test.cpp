// The server's alert checks (silent PC, broken reader, skewed clock, stuck mail) over a real
// store, and each alert mailed once to the staff whose role receives it (fake relay).
#include "notify-server/ingest/alert_checks.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

#include "notify-server/mail/staff_alert_mailer.hpp"
#include "services/guardians.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "tests/fakes/fake_mail_transport.hpp"
#include "tests/fakes/seed.hpp"
#include "tests/fakes/temp_dir.hpp"

namespace anshin::ingest {
namespace {

TimePoint T(const char* rfc3339) { return ParseRfc3339(rfc3339).value(); }

struct Fixture {
  fakes::TempDir dir{"alert-checks"};
  std::unique_ptr<store::Store> store = [this] {
    store::SqliteOptions so;
    so.path = dir / "anshin.db";
    return std::unique_ptr<store::Store>(store::SqliteStore::Open(so).value());
  }();
  store::Actor who{"tester", T("2026-11-26T09:00:00+09:00")};
  fakes::Seed seed{*store, who};
  FacilityId hikari = seed.Facility("hikari-1", "光が丘第一学童クラブ");  // opens 13:00
  FacilityId asahi = seed.Facility("asahi-2", "旭町学童クラブ");
  AgentId pc = seed.Agent("hikari-1-pc", hikari, std::string(64, 'a'));
  AlertChecks checks{*store, fakes::FixedJst()};

  std::vector<std::string> Run(const char* at) {
    auto raised = checks.Run(T(at));
    REQUIRE(raised.ok());
    std::vector<std::string> kinds;
    for (const auto& a : *raised) kinds.emplace_back(AlertKindName(a.kind));
    return kinds;
  }
  void Contact(const char* at, const std::string& reader_state, std::int64_t skew_ms) {
    store::AgentContact c;
    c.at = T(at);
    c.skew_ms = skew_ms;
    c.health_json = "{\"reader_state\":\"" + reader_state + "\",\"queue_depth\":0}";
    REQUIRE(store::InWrite(*store, [&](store::WriteTxn& t) {
              return t.agents().RecordContact(pc, c);
            }).ok());
  }
  void AddStaff(const std::string& name, store::StaffRole role, std::optional<FacilityId> f,
                const std::string& email) {
    store::Staff s;
    s.name = name;
    s.role = role;
    s.facility = f;
    s.email = email;
    s.password_hash = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA";
    s.created_at = s.password_changed_at = who.at;
    REQUIRE(store::InWrite(*store, [&](store::WriteTxn& t) {
              return t.staff().Insert(s).status();
            }).ok());
  }
};

TEST_CASE("a facility PC silent in opening hours is alerted once per silence", "[alerts]") {
  Fixture f;
  CHECK(f.Run("2026-11-26T12:00:00+09:00").empty());  // closed
  CHECK(f.Run("2026-11-26T13:10:00+09:00").empty());  // open for 10 min only
  CHECK(f.Run("2026-11-26T13:25:00+09:00") == std::vector<std::string>{"agent_silent"});
  CHECK(f.Run("2026-11-26T13:26:00+09:00").empty());
  CHECK(f.Run("2026-11-26T15:00:00+09:00").empty());  // the same silence
  // Heard from, with a broken reader and a clock 5 minutes fast.
  f.Contact("2026-11-26T15:05:00+09:00", "error", 5 * 60 * 1000);
  auto next = f.Run("2026-11-26T15:06:00+09:00");
  std::sort(next.begin(), next.end());
  CHECK(next == std::vector<std::string>{"clock_skew", "reader_error"});
  CHECK(f.Run("2026-11-26T15:07:00+09:00").empty());  // lasting: not every minute
  // Silent again for 20 minutes: a new silence.
  CHECK(f.Run("2026-11-26T15:30:00+09:00") == std::vector<std::string>{"agent_silent"});
  // A day later the lasting reader and clock problems are alerted again.
  auto later = f.Run("2026-11-27T15:10:00+09:00");
  std::sort(later.begin(), later.end());
  CHECK(later == std::vector<std::string>{"clock_skew", "reader_error"});
  CHECK(f.Run("2026-11-29T15:00:00+09:00").empty());  // Sunday: closed
  auto alerts = store::InRead(*f.store, [](store::ReadTxn& t) { return t.alerts().List(true); });
  REQUIRE(alerts.ok());
  for (const auto& a : *alerts) {
    CHECK(a.facility == f.hikari);
    CHECK(a.detail == "agent=" + f.pc.ToString());
  }
}

TEST_CASE("each alert is mailed once, to the staff whose role receives its kind", "[alerts]") {
  Fixture f;
  using store::StaffRole;
  f.AddStaff("hikari-staff", StaffRole::kFacility, f.hikari, "hikari@staff.example.jp");
  f.AddStaff("asahi-staff", StaffRole::kFacility, f.asahi, "asahi@staff.example.jp");
  f.AddStaff("cc1", StaffRole::kCallCenter, std::nullopt, "cc@staff.example.jp");
  f.AddStaff("ops1", StaffRole::kOperator, std::nullopt, "ops@staff.example.jp");
  f.AddStaff("ops-nomail", StaffRole::kOperator, std::nullopt, "");
  f.AddStaff("audit1", StaffRole::kAuditor, std::nullopt, "audit@staff.example.jp");
  fakes::FakeMailTransport relay;
  server::mail::StaffAlertMailer mailer(*f.store, relay,
                                        {.from = "noreply@anshin.example.jp",
                                         .from_name = "キッズ安心メール",
                                         .message_id_domain = "anshin.example.jp",
                                         .console_url = "https://staff.anshin.example.jp"},
                                        fakes::FixedJst());
  REQUIRE(f.Run("2026-11-26T13:25:00+09:00") == std::vector<std::string>{"agent_silent"});

  // The relay is down: nothing is marked, the next run sends.
  relay.SetDown(true);
  CHECK(mailer.Run(T("2026-11-26T13:25:03+09:00")).value() == 0);
  relay.SetDown(false);
  CHECK(mailer.Run(T("2026-11-26T13:25:06+09:00")).value() == 2);
  std::vector<std::string> to;
  for (const auto& m : relay.accepted()) to.push_back(m.to);
  std::sort(to.begin(), to.end());
  CHECK(to == std::vector<std::string>{"hikari@staff.example.jp", "ops@staff.example.jp"});
  const std::string data = relay.accepted()[0].data;
  CHECK(data.find("Message-ID: <alert.1.staff.") != std::string::npos);
  auto silent = store::InRead(*f.store, [](store::ReadTxn& t) { return t.alerts().Get(1); });
  REQUIRE(silent.ok());
  CHECK(silent->mailed_at == T("2026-11-26T13:25:06+09:00"));
  const auto text = server::mail::ComposeStaffAlert(*silent, "光が丘第一学童クラブ",
                                                    TimeZone::Fixed("Asia/Tokyo", 9 * 3600),
                                                    "https://staff.anshin.example.jp");
  CHECK(text.subject == "【警報 1】施設のパソコンから連絡がありません（光が丘第一学童クラブ）");
  CHECK(text.body.find("https://staff.anshin.example.jp/\n") != std::string::npos);
  // Once: the next run sends nothing.
  CHECK(mailer.Run(T("2026-11-26T13:25:09+09:00")).value() == 0);
  CHECK(relay.accepted().size() == 2);

  // A lost card tapped at the club: facility staff and the call centre, no name in the mail.
  const ChildId child = f.seed.Child("練馬 さくら", f.hikari);
  store::AlertRecord lost;
  lost.kind = AlertKind::kLostCardSeen;
  lost.facility = f.hikari;
  lost.child = child;
  lost.at = T("2026-11-26T15:02:00+09:00");
  REQUIRE(store::InWrite(*f.store, [&](store::WriteTxn& t) {
            return t.alerts().Insert(lost).status();
          }).ok());
  CHECK(mailer.Run(T("2026-11-26T15:02:03+09:00")).value() == 2);
  for (std::size_t i = 2; i < relay.accepted().size(); ++i) {
    CHECK(relay.accepted()[i].data.find("練馬") == std::string::npos);
    CHECK((relay.accepted()[i].to == "hikari@staff.example.jp" ||
           relay.accepted()[i].to == "cc@staff.example.jp"));
  }
}

TEST_CASE("the roles receiving each alert kind", "[alerts]") {
  using server::mail::ReceivesAlert;
  using store::StaffRole;
  CHECK(ReceivesAlert(StaffRole::kFacility, AlertKind::kLostCardSeen));
  CHECK(ReceivesAlert(StaffRole::kCallCenter, AlertKind::kLostCardSeen));
  CHECK_FALSE(ReceivesAlert(StaffRole::kOperator, AlertKind::kLostCardSeen));
  CHECK(ReceivesAlert(StaffRole::kCallCenter, AlertKind::kAddressBouncing));
  CHECK_FALSE(ReceivesAlert(StaffRole::kFacility, AlertKind::kAddressBouncing));
  CHECK(ReceivesAlert(StaffRole::kOperator, AlertKind::kMailFailing));
  CHECK(ReceivesAlert(StaffRole::kAuditor, AlertKind::kUnusualAccess));
  CHECK_FALSE(ReceivesAlert(StaffRole::kFacility, AlertKind::kUnusualAccess));
}

TEST_CASE("a child expected and not arrived by the expected time is alerted once that day",
          "[alerts]") {
  Fixture f;
  services::Facilities facilities(*f.store, fakes::FixedJst());
  store::Facility asahi = facilities.ByCode("asahi-2").value();
  asahi.expected_arrival_by = LocalTime::HM(16, 0);
  REQUIRE(facilities.Update(asahi, f.who).ok());
  const ChildId mei = f.seed.Child("旭 めい", f.asahi);   // every day, never comes
  const ChildId sora = f.seed.Child("旭 そら", f.asahi);  // absent by a phone call
  const ChildId riku = f.seed.Child("旭 りく", f.asahi);  // arrives
  const ChildId yui = f.seed.Child("旭 ゆい", f.asahi);   // Mondays only
  services::Children children(*f.store);
  store::Child y = children.Get(yui).value();
  y.attend_days = store::Weekdays{};
  y.attend_days.Add(1);
  REQUIRE(children.Update(y, f.who).ok());
  REQUIRE(
      children.RecordAbsence(sora, LocalDate{2026, 11, 26}, LocalDate{2026, 11, 26}, "通院", f.who)
          .ok());
  ChildDay day;
  day.date = LocalDate{2026, 11, 26};
  day.visits.push_back(Visit{T("2026-11-26T15:10:00+09:00"), std::nullopt});
  REQUIRE(store::InWrite(*f.store, [&](store::WriteTxn& t) {
            return t.attendance().SaveChildDay(riku, f.asahi, day);
          }).ok());
  auto not_arrived = [&](const char* at) {
    auto raised = f.checks.Run(T(at));
    REQUIRE(raised.ok());
    std::vector<ChildId> out;
    for (const auto& a : *raised) {
      if (a.kind != AlertKind::kNotArrived) continue;
      CHECK(a.facility == f.asahi);
      out.push_back(*a.child);
    }
    return out;
  };
  CHECK(not_arrived("2026-11-26T15:59:00+09:00").empty());
  CHECK(not_arrived("2026-11-26T16:01:00+09:00") == std::vector<ChildId>{mei});
  CHECK(not_arrived("2026-11-26T16:30:00+09:00").empty());  // once per child and day
  // A closed day expects no one; a holiday with its own time expects them by then.
  REQUIRE(facilities
              .SetCalendar(f.asahi, LocalDate{2026, 11, 27}, LocalDate{2026, 11, 27}, true,
                           std::nullopt, f.who)
              .ok());
  REQUIRE(facilities
              .SetCalendar(f.asahi, LocalDate{2026, 11, 28}, LocalDate{2026, 11, 28}, false,
                           LocalTime::HM(12, 0), f.who)
              .ok());
  CHECK(not_arrived("2026-11-27T16:01:00+09:00").empty());
  CHECK(not_arrived("2026-11-28T12:01:00+09:00") ==
        std::vector<ChildId>{mei, sora, riku});  // Saturday: sora's absence was Thursday's
  // A facility without an expected time raises none (hikari-1 has children too).
  f.seed.Child("光 はな", f.hikari);
  CHECK(not_arrived("2026-11-30T18:00:00+09:00") == std::vector<ChildId>{mei, sora, riku, yui});
  // Bad ranges are refused in words.
  CHECK(children.RecordAbsence(mei, LocalDate{2026, 12, 2}, LocalDate{2026, 12, 1}, "", f.who)
            .status()
            .message() == "to: before from");
}
// The not-arrived mails queued for `child`, by guardian.
std::vector<store::OutboxRow> NotArrivedMails(store::Store& store, ChildId child) {
  auto txn = store.BeginRead().value();
  std::vector<store::OutboxRow> rows = txn->outbox().List(child).value();
  std::vector<store::OutboxRow> out;
  for (store::OutboxRow& r : rows) {
    if (r.message.kind == store::OutboxKind::kNotArrived) out.push_back(std::move(r));
  }
  return out;
}

// How many not_arrived alerts a run raised (the fixture's silent PC and the guardians'
// verification mails raise others).
std::size_t NotArrivedAlerts(const std::vector<store::AlertRecord>& raised) {
  return static_cast<std::size_t>(std::count_if(raised.begin(), raised.end(), [](const auto& a) {
    return a.kind == AlertKind::kNotArrived;
  }));
}

TEST_CASE("guardians are mailed not arrived only where the ward switched it on for the facility",
          "[alerts][mail]") {
  Fixture f;
  services::Facilities facilities(*f.store, fakes::FixedJst());
  store::Facility asahi = facilities.ByCode("asahi-2").value();
  // The switch needs an expected time: without one nothing could be "not arrived".
  asahi.notify_not_arrived = true;
  CHECK(facilities.Update(asahi, f.who).message().find("expected-arrival-by") != std::string::npos);
  asahi.expected_arrival_by = LocalTime::HM(16, 0);
  asahi.notify_not_arrived = false;
  REQUIRE(facilities.Update(asahi, f.who).ok());
  const ChildId mei = f.seed.Child("旭 めい", f.asahi);
  const GuardianId mother = f.seed.VerifiedGuardian(mei, "mother@example.jp");
  const GuardianId father = f.seed.VerifiedGuardian(mei, "father@example.jp");
  f.seed.Guardian(mei, "unverified@example.jp");  // never confirmed: gets nothing
  // Off (the default): the facility's alert only.
  CHECK(NotArrivedAlerts(f.checks.Run(T("2026-11-26T16:01:00+09:00")).value()) == 1);
  CHECK(NotArrivedMails(*f.store, mei).empty());

  // On: the next day's alert queues one mail per guardian who gets arrival mail.
  asahi.notify_not_arrived = true;
  REQUIRE(facilities.Update(asahi, f.who).ok());
  services::Guardians guardians(*f.store);
  services::GuardianChange departures_only;  // the father asked for departures only
  departures_only.arrival = false;
  REQUIRE(guardians.Update(father, departures_only, f.who).ok());
  int woken = 0;
  AlertChecks checks(*f.store, fakes::FixedJst(),
                     AlertCheckOptions{.mail_queued = [&woken] { ++woken; }});
  CHECK(NotArrivedAlerts(checks.Run(T("2026-11-27T15:59:00+09:00")).value()) == 0);
  CHECK(woken == 0);
  REQUIRE(NotArrivedAlerts(checks.Run(T("2026-11-27T16:01:00+09:00")).value()) == 1);
  CHECK(woken == 1);
  const std::vector<store::OutboxRow> mails = NotArrivedMails(*f.store, mei);
  REQUIRE(mails.size() == 1);
  CHECK(mails[0].message.guardian == mother);
  CHECK(mails[0].message.facility == f.asahi);
  CHECK(mails[0].message.tap_at == T("2026-11-27T16:00:00+09:00"));  // the time expected by
  CHECK(mails[0].state == store::OutboxState::kQueued);
  // Once per child and day, like the alert.
  CHECK(NotArrivedAlerts(checks.Run(T("2026-11-27T16:30:00+09:00")).value()) == 0);
  CHECK(NotArrivedMails(*f.store, mei).size() == 1);
  CHECK(woken == 1);
}
}  // namespace
}  // namespace anshin::ingest
