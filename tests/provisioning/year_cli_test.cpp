// anshin-admin child update|withdraw, rollover, purge and report against a real home.
#include <fstream>
#include <sstream>

#include "tests/provisioning/cli_harness.hpp"

namespace anshin::admin::testing {
namespace {

ChildId IdOf(const CliResult& r) {
  REQUIRE(r.out.rfind("child ", 0) == 0);
  return ChildId{std::stoll(r.out.substr(6))};
}

ChildId AddSakura(const TestHome& h, const std::string& grade = "2") {
  auto r = h.Run({"child", "add", "--facility", "hikari-1", "--name", "練馬 さくら", "--number",
                  "2026-0001", "--grade", grade});
  REQUIRE(r.code == 0);
  return IdOf(r);
}

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<store::AuditEntry> Audit(const TestHome& h) {
  return h.Read([](store::ReadTxn& t) { return t.audit().List(); });
}

TEST_CASE("child update changes only the fields given and says which", "[admin]") {
  TestHome h;
  ChildId id = AddSakura(h);
  auto r = h.Run({"child", "update", "--child", id.ToString(), "--name", "練馬 さくら子", "--grade",
                  "3", "--departure-mon", "17:30", "--days", "mon,fri"});
  REQUIRE(r.code == 0);
  CHECK(r.out ==
        "child " + id.ToString() + " updated: name, expected_departure, grade, attend_days\n");
  store::Child c = h.Read([&](store::ReadTxn& t) { return t.children().Get(id); });
  CHECK(c.name == "練馬 さくら子");
  CHECK(c.grade == 3);
  CHECK(c.number == std::optional<std::string>("2026-0001"));  // not given: kept
  CHECK(c.schedule.expected_departure[1] == LocalTime::HM(17, 30));
  const store::AuditEntry last = Audit(h).back();
  CHECK(last.action == "child.update");
  CHECK(last.detail.find("changed=name,expected_departure,grade,attend_days") != std::string::npos);
  CHECK(last.detail.find("さくら") == std::string::npos);  // never the values

  auto none = h.Run({"child", "update", "--child", id.ToString(), "--departure-mon", "none"});
  CHECK(none.out == "child " + id.ToString() + " updated: expected_departure\n");
  auto bad = h.Run({"child", "update", "--child", id.ToString(), "--grade", "7"});
  CHECK(bad.code != 0);
  CHECK(bad.err.find("grade: must be 1 to 6") != std::string::npos);
  auto bad_time = h.Run({"child", "update", "--child", id.ToString(), "--departure-sat", "25:00"});
  CHECK(bad_time.code != 0);
  CHECK(bad_time.err.find("departure-sat") != std::string::npos);
}

TEST_CASE("child withdraw retires the cards and lists the child as withdrawn", "[admin]") {
  TestHome h;
  ChildId id = AddSakura(h);
  REQUIRE(h.Run({"card", "assign", "--child", id.ToString(), "--idm", "0123456789abcdef"}).code ==
          0);
  REQUIRE(h.Read([](store::ReadTxn& t) { return t.cards().AllowlistTokens(); }).size() == 1);
  auto r = h.Run({"child", "withdraw", "--child", id.ToString(), "--date", "2027-03-31"});
  REQUIRE(r.code == 0);
  CHECK(r.out == "child " + id.ToString() + " withdrawn from 2027-03-31, 1 card retired\n");
  CHECK(h.Read([](store::ReadTxn& t) { return t.cards().AllowlistTokens(); }).empty());
  store::Child c = h.Read([&](store::ReadTxn& t) { return t.children().Get(id); });
  CHECK(c.status == store::ChildStatus::kWithdrawn);
  CHECK(c.withdrawn_at == ParseRfc3339("2027-03-31T00:00:00+09:00").value());
  CHECK(Audit(h).back().action == "child.withdraw");

  CHECK(h.Run({"child", "list"}).out.find("練馬 さくら") == std::string::npos);
  CHECK(h.Run({"child", "list", "--withdrawn"}).out.find("withdrawn") != std::string::npos);
  CHECK(h.Run({"child", "show", id.ToString()}).out.find("status      withdrawn") !=
        std::string::npos);
  auto again = h.Run({"child", "withdraw", "--child", id.ToString()});
  CHECK(again.code != 0);
  CHECK(again.err.find("already withdrawn") != std::string::npos);
}

TEST_CASE("rollover prints its counts, its dry run writes nothing, a second run nothing",
          "[admin]") {
  TestHome h;
  ChildId first = AddSakura(h, "1");
  REQUIRE(h.Run({"child", "add", "--facility", "hikari-1", "--name", "練馬 はると", "--grade", "3"})
              .code == 0);
  REQUIRE(h.Run({"child", "add", "--facility", "hikari-1", "--name", "練馬 あおい"}).code == 0);
  const std::size_t audit = Audit(h).size();
  auto dry = h.Run({"rollover", "--date", "2027-04-01", "--dry-run"});
  REQUIRE(dry.code == 0);
  CHECK(dry.out ==
        "dry run, nothing written: rollover 2027-04-01: promoted 1, withdrawn 1 (0 cards "
        "retired), 1 without a grade left as they are\n");
  CHECK(Audit(h).size() == audit);
  auto run = h.Run({"rollover", "--date", "2027-04-01"});
  CHECK(run.out.find("promoted 1, withdrawn 1") != std::string::npos);
  CHECK(h.Read([&](store::ReadTxn& t) { return t.children().Get(first); }).grade == 2);
  auto again = h.Run({"rollover", "--date", "2027-04-01"});
  CHECK(again.code == 0);
  CHECK(again.out.find("already ran") != std::string::npos);
  CHECK(h.Read([&](store::ReadTxn& t) { return t.children().Get(first); }).grade == 2);
}

// A tap, a visit and a sent mail of the child at 2026-11-20 15:02 JST.
void AddDayOfTraffic(const TestHome& h, ChildId child) {
  auto admin = Admin::Open(h.home, "tester").value();
  const TimePoint at = ParseRfc3339("2026-11-20T15:02:00+09:00").value();
  REQUIRE(store::InWrite(admin->store(), [&](store::WriteTxn& t) -> Status {
            store::Agent a;
            a.name = "hikari-1-pc";
            a.facility = t.facilities().FindByCode("hikari-1").value()->id;
            a.cert_sha256 = std::string(64, 'a');
            a.enrolled_at = at;
            const AgentId agent = t.agents().Insert(a).value();
            store::TapRecord tap;
            tap.agent = agent;
            tap.seq = 1;
            tap.card = CardToken::Parse(std::string(32, '1')).value();
            tap.facility = a.facility;
            tap.reader = "entrance";
            tap.tapped_at = tap.corrected_at = tap.received_at = at;
            tap.reason = Reason::kArrival;
            tap.child = child;
            tap.late = true;
            ANSHIN_RETURN_IF_ERROR(t.attendance().InsertTap(tap));
            ChildDay day;
            day.date = LocalDate{2026, 11, 20};
            day.visits.push_back(Visit{at, at + std::chrono::minutes(149), true});
            ANSHIN_RETURN_IF_ERROR(t.attendance().SaveChildDay(child, a.facility, day));
            store::Guardian g;
            g.child = child;
            g.email = "hanako@example.jp";
            g.verified = true;
            const GuardianId guardian = t.guardians().Insert(g, at).value();
            store::OutboxMessage m;
            m.guardian = guardian;
            m.child = child;
            m.facility = a.facility;
            m.created_at = at;
            store::SendResult r;
            r.outbox_id = t.outbox().Insert(m).value();
            r.guardian = guardian;
            r.at = at + std::chrono::seconds(3);
            r.smtp_code = 250;
            r.reply = "250 2.0.0 Ok: queued as hanako@example.jp";
            return t.outbox().RecordAttempt(r);
          }).ok());
}

TEST_CASE("report sendlog and attendance write Excel-friendly CSV without addresses", "[admin]") {
  TestHome h;
  ChildId id = AddSakura(h);
  AddDayOfTraffic(h, id);
  const std::filesystem::path sendlog = h.dir / "sendlog.csv";
  auto r = h.Run({"report", "sendlog", "--month", "2026-11", "--out", sendlog.string()});
  REQUIRE(r.code == 0);
  CHECK(r.out == "send log of 2026-11: 1 attempt written to " + sendlog.string() + "\n");
  const std::string text = ReadFile(sendlog);
  CHECK(
      text ==
      "\xEF\xBB\xBF\"time\",\"facility\",\"child_number\",\"kind\",\"result\",\"reply_code\"\r\n"
      "\"2026-11-20T15:02:03+09:00\",\"hikari-1\",\"2026-0001\",\"arrival\",\"sent\",\"250\"\r\n");
  CHECK(text.find('@') == std::string::npos);
  CHECK(Audit(h).back().action == "report.sendlog");
  CHECK(Audit(h).back().detail == "month=2026-11 rows=1");

  auto empty = h.Run({"report", "sendlog", "--month", "2026-10", "--out", sendlog.string()});
  CHECK(empty.out.find(": 0 attempts") != std::string::npos);

  const std::filesystem::path attendance = h.dir / "attendance.csv";
  auto a = h.Run({"report", "attendance", "--month", "2026-11", "--facility", "hikari-1", "--out",
                  attendance.string()});
  REQUIRE(a.code == 0);
  CHECK(ReadFile(attendance) ==
        "\xEF\xBB\xBF\"date\",\"child_number\",\"name\",\"arrival\",\"departure\",\"visits\","
        "\"inferred\",\"corrected\",\"late\"\r\n"
        "\"2026-11-20\",\"2026-0001\",\"練馬 さくら\",\"15:02\",\"17:31\",\"1\",\"yes\",\"no\","
        "\"yes\"\r\n");
  CHECK(Audit(h).back().action == "report.attendance");
  auto bad = h.Run({"report", "attendance", "--month", "2026-13", "--facility", "hikari-1", "--out",
                    attendance.string()});
  CHECK(bad.code != 0);
  CHECK(bad.err.find("--month") != std::string::npos);
}

TEST_CASE("purge --dry-run reports what would go and keeps it, purge deletes it", "[admin]") {
  TestHome h;
  ChildId id = AddSakura(h);
  AddDayOfTraffic(h, id);
  auto dry = h.Run({"purge", "--dry-run", "--now", "2028-01-10T12:00:00+09:00"});
  REQUIRE(dry.code == 0);
  CHECK(dry.out.find("would purge 1 taps, 1 visit days, 1 mails, 1 send attempts, 0 skew "
                     "samples deleted") != std::string::npos);
  CHECK(dry.out.find("kept: since 2026-12-10, 13 months") != std::string::npos);
  auto days = [&] {
    return h.Read([&](store::ReadTxn& t) {
      return t.attendance().DaysOfFacility(t.facilities().FindByCode("hikari-1").value()->id,
                                           LocalDate{2026, 1, 1}, LocalDate{2028, 1, 1});
    });
  };
  CHECK(days().size() == 1);
  auto run = h.Run({"purge", "--now", "2028-01-10T12:00:00+09:00"});
  CHECK(run.out.find("purged 1 taps") != std::string::npos);
  CHECK(days().empty());
  CHECK(Audit(h).back().action == "purge");
}

}  // namespace
}  // namespace anshin::admin::testing
