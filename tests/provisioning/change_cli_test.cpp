// Changes on the command line (guardian update|prefs|remove|resend-verification) and `explain`:
// each says what it did in words, refuses mistakes in words, and is audited.
#include <nlohmann/json.hpp>

#include "tests/provisioning/cli_harness.hpp"

namespace anshin::admin::testing {
namespace {

using nlohmann::json;

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

struct Family : TestHome {
  std::string child, mama, papa;
  Family() {
    child = Trim(
        Run({"child", "add", "--facility", "hikari-1", "--name", "練馬 さくら", "--format", "id"})
            .out);
    REQUIRE(Run({"card", "assign", "--child", child, "--idm", "0123456789ABCDEF"}).code == 0);
    mama = Trim(
        Run({"guardian", "add", "--child", child, "--email", "hanako@example.jp", "--format", "id"})
            .out);
    papa = Trim(
        Run({"guardian", "add", "--child", child, "--email", "taro@example.jp", "--format", "id"})
            .out);
  }
  json Guardians() const {
    auto r = Run({"guardian", "list", "--child", child, "--format", "json"});
    REQUIRE(r.code == 0);
    return json::parse(r.out);
  }
  std::vector<store::AuditEntry> Audit() const {
    return Read([](store::ReadTxn& txn) { return txn.audit().List(); });
  }
};

TEST_CASE("guardian update, prefs, remove and resend-verification say what they did", "[admin]") {
  Family f;
  auto dup = f.Run({"guardian", "update", "--guardian", f.mama, "--email", "Taro@example.jp"});
  CHECK(dup.code != 0);
  CHECK(dup.err.find("already has this address (guardian " + f.papa + ")") != std::string::npos);
  CHECK(dup.err.find("SQL") == std::string::npos);
  CHECK(f.Run({"guardian", "update", "--guardian", f.mama}).code != 0);  // nothing to change
  CHECK(f.Run({"guardian", "prefs", "--guardian", f.mama, "--arrival", "maybe"}).code != 0);

  auto moved =
      f.Run({"guardian", "update", "--guardian", f.mama, "--email", "hanako@new.example.jp"});
  INFO(moved.err);
  REQUIRE(moved.code == 0);
  CHECK(moved.out.find("guardian " + f.mama + " updated: email") == 0);
  CHECK(moved.out.find("not verified yet: verification mail") != std::string::npos);

  auto prefs = f.Run({"guardian", "prefs", "--guardian", f.papa, "--arrival", "off"});
  REQUIRE(prefs.code == 0);
  CHECK(prefs.out == "guardian " + f.papa + " updated: arrival\n");
  CHECK(f.Run({"guardian", "prefs", "--guardian", f.papa, "--arrival", "off"}).out ==
        "guardian " + f.papa + " unchanged (the values given are already set)\n");

  json g = f.Guardians();
  REQUIRE(g.size() == 2);
  CHECK(g[0]["email"] == "ha***@n***.jp");  // masked, the new address
  CHECK(g[1]["arrival"] == false);
  CHECK(g[1]["departure"] == true);

  auto resend = f.Run({"guardian", "resend-verification", "--guardian", f.papa});
  REQUIRE(resend.code == 0);
  CHECK(resend.out.find("verification mail") != std::string::npos);

  auto removed = f.Run({"guardian", "remove", "--guardian", f.papa});
  REQUIRE(removed.code == 0);
  CHECK(removed.out.find("guardian " + f.papa + " removed: the address is erased") == 0);
  CHECK(f.Guardians().size() == 1);
  auto again = f.Run({"guardian", "remove", "--guardian", f.papa});
  CHECK(again.code != 0);
  CHECK(again.err.find("was removed") != std::string::npos);

  std::vector<std::string> actions;
  for (const auto& e : f.Audit()) {
    actions.push_back(e.action);
    CHECK(e.detail.find("@") == std::string::npos);  // never an address
  }
  for (const char* a : {"guardian.update", "guardian.resend_verification", "guardian.remove"})
    CHECK(std::find(actions.begin(), actions.end(), a) != actions.end());
}

TEST_CASE("explain re-derives a child's day with each rule in words", "[admin]") {
  Family f;
  REQUIRE(f.Run({"agent", "enroll", "--facility", "hikari-1", "--name", "hikari-1-pc", "--out",
                 (f.dir / "bundle").string()})
              .code == 0);
  auto admin = Admin::Open(f.home, "tester").value();
  auto agent = store::InRead(admin->store(), [](store::ReadTxn& txn) {
                 return txn.agents().Find("hikari-1-pc");
               }).value();
  REQUIRE(agent.has_value());
  const ChildId child{std::stoll(f.child)};
  const CardToken card =
      f.Read([&](store::ReadTxn& txn) { return txn.cards().OfChild(child); }).at(0).token;
  // As ingest stored them; the third was stored as a duplicate by an older rule set, so explain
  // shows the difference.
  struct Stored {
    const char* at;
    Reason reason;
  };
  const std::vector<Stored> stored = {{"2026-12-02T15:02:00+09:00", Reason::kArrival},
                                      {"2026-12-02T15:03:10+09:00", Reason::kDuplicate},
                                      {"2026-12-02T17:40:00+09:00", Reason::kDuplicate}};
  REQUIRE(store::InWrite(admin->store(), [&](store::WriteTxn& txn) -> Status {
            std::uint64_t seq = 0;
            for (const Stored& s : stored) {
              store::TapRecord t;
              t.agent = agent->id;
              t.seq = ++seq;
              t.card = card;
              t.facility = agent->facility;
              t.reader = "entrance";
              t.tapped_at = t.corrected_at = t.received_at = ParseRfc3339(s.at).value();
              t.reason = s.reason;
              t.child = child;
              ANSHIN_RETURN_IF_ERROR(txn.attendance().InsertTap(t));
            }
            return Status::Ok();
          }).ok());

  auto text = f.Run({"explain", "--child", f.child, "--date", "2026-12-02", "--reason",
                     "guardian asked about the departure mail"});
  INFO(text.err);
  REQUIRE(text.code == 0);
  CHECK(text.out.find("child " + f.child + " (練馬 さくら), 2026-12-02") == 0);
  CHECK(text.out.find("departure threshold 16:30") != std::string::npos);
  CHECK(text.out.find("15:02:00  arrival, mailed — no visit was open: a visit begins") !=
        std::string::npos);
  CHECK(text.out.find("15:03:10  duplicate — within the double-tap window (120 s) of the tap "
                      "accepted at 15:02") != std::string::npos);
  CHECK(text.out.find("17:40:00  departure, mailed — closes the visit that began at 15:02") !=
        std::string::npos);
  CHECK(text.out.find("stored then as duplicate") != std::string::npos);
  CHECK(text.out.find("closing check: no visit left open") != std::string::npos);
  const auto audit = f.Audit();
  CHECK(audit.back().action == "child.explain");
  CHECK(audit.back().detail ==
        "child=" + f.child + " date=2026-12-02 reason=guardian asked about the departure mail");

  // The card reported lost after those taps: they are still the child's (status at tap time).
  REQUIRE(f.Run({"card", "lost", "--child", f.child}).code == 0);
  auto rows = f.Run({"explain", "--child", f.child, "--date", "2026-12-02", "--format", "json"});
  REQUIRE(rows.code == 0);
  json j = json::parse(rows.out);
  REQUIRE(j.size() == 3);
  CHECK(j[0]["reason"] == "arrival");
  CHECK(j[0]["mailed"] == "arrival");
  CHECK(j[1]["mailed"] == "");
  CHECK(j[2]["reason"] == "departure");
  CHECK(j[2]["agrees"] == false);
  CHECK(j[2]["stored_reason"] == "duplicate");

  auto empty = f.Run({"explain", "--child", f.child, "--date", "2026-12-01"});
  REQUIRE(empty.code == 0);
  CHECK(empty.out.find("no taps that day") != std::string::npos);
  CHECK(f.Run({"explain", "--child", "999", "--date", "2026-12-01"}).code != 0);
}

}  // namespace
}  // namespace anshin::admin::testing
