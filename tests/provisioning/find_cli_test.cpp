// The call centre's questions on the command line: find a child, read the record, taps, mail,
// guardians (masked, revealed with a reason), cards through their lifecycle, alerts and the
// audit log; each view audited.
#include <nlohmann/json.hpp>

#include "provisioning/output.hpp"
#include "services/inquiries.hpp"
#include "tests/provisioning/cli_harness.hpp"

namespace anshin::admin::testing {
namespace {

using nlohmann::json;

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// A home with two children (one with a card and two guardians) and a second facility.
struct World : TestHome {
  std::string sakura, haruto;
  World() {
    REQUIRE(Run({"facility", "add", "--code", "hikari-2", "--name", "光が丘第二学童クラブ"}).code ==
            0);
    sakura = Trim(Run({"child", "add", "--facility", "hikari-1", "--name", "練馬 さくら", "--kana",
                       "ねりま さくら", "--number", "2026-0001", "--grade", "2", "--format", "id"})
                      .out);
    haruto = Trim(Run({"child", "add", "--facility", "hikari-2", "--name", "Nerima Haruto",
                       "--number", "2026-0002", "--format", "id"})
                      .out);
    REQUIRE(Run({"card", "assign", "--child", sakura, "--idm", "0123456789ABCDEF"}).code == 0);
    REQUIRE(Run({"guardian", "add", "--child", sakura, "--email", "hanako@example.jp"}).code == 0);
    REQUIRE(Run({"guardian", "add", "--child", sakura, "--email", "taro.nerima@mail.example.co.jp"})
                .code == 0);
  }
  json Json(std::vector<std::string> args) const {
    args.push_back("--format");
    args.push_back("json");
    auto r = Run(args);
    INFO(r.err);
    REQUIRE(r.code == 0);
    return json::parse(r.out);
  }
  std::vector<store::AuditEntry> Audit() const {
    return Read([](store::ReadTxn& txn) { return txn.audit().List(); });
  }
  std::string CardToken() const {
    return Read([&](store::ReadTxn& txn) {
             return txn.cards().OfChild(ChildId{std::stoll(sakura)});
           })
        .at(0)
        .token.hex();
  }
};

std::vector<std::int64_t> Ids(const json& rows) {
  std::vector<std::int64_t> out;
  for (const auto& r : rows) out.push_back(r.at("id").get<std::int64_t>());
  return out;
}

TEST_CASE("child search finds by name, kana, number, facility and card token", "[admin]") {
  World w;
  std::int64_t s = std::stoll(w.sakura), h = std::stoll(w.haruto);
  using V = std::vector<std::int64_t>;
  CHECK(Ids(w.Json({"child", "search", "--query", "さくら"})) == V{s});
  CHECK(Ids(w.Json({"child", "search", "--query", "ねりま"})) == V{s});
  CHECK(Ids(w.Json({"child", "search", "--query", "haruto"})) == V{h});
  CHECK(Ids(w.Json({"child", "search", "--query", "2026-"})) == V{s, h});
  CHECK(Ids(w.Json({"child", "search", "--query", "hikari-2"})) == V{h});
  CHECK(Ids(w.Json({"child", "search", "--query", w.CardToken().substr(0, 8)})) == V{s});
  CHECK(w.Json({"child", "search", "--query", "nobody"}).empty());
  CHECK(Ids(w.Json({"child", "list", "--facility", "hikari-1"})) == V{s});
  CHECK(w.Run({"child", "list", "--facility", "nowhere"}).code != 0);

  json row = w.Json({"child", "search", "--query", "さくら"}).at(0);
  CHECK(row["number"] == "2026-0001");
  CHECK(row["kana"] == "ねりま さくら");
  CHECK(row["facility"] == "hikari-1");
  CHECK(row["grade"] == 2);

  SECTION("the table's first column is the id, aligned with wide characters") {
    auto r = w.Run({"child", "list"});
    REQUIRE(r.code == 0);
    std::istringstream lines(r.out);
    std::string header, first, second;
    std::getline(lines, header);
    std::getline(lines, first);
    std::getline(lines, second);
    CHECK(header.rfind("id  number", 0) == 0);
    CHECK(first.rfind(w.sakura + " ", 0) == 0);
    CHECK(second.rfind(w.haruto + " ", 0) == 0);
    // "facility" starts in the same display column on every line.
    auto column_of = [](const std::string& line, const std::string& cell) {
      return DisplayWidth(line.substr(0, line.find(cell)));
    };
    CHECK(column_of(first, "hikari-1") == column_of(header, "facility"));
    CHECK(column_of(second, "hikari-2") == column_of(header, "facility"));
  }
  SECTION("csv for scripts") {
    auto r = w.Run({"child", "search", "--query", "さくら", "--format", "csv"});
    REQUIRE(r.code == 0);
    CHECK(r.out.rfind("\"id\",\"number\",\"name\"", 0) == 0);
    CHECK(r.out.find("\"" + w.sakura + "\",\"2026-0001\",\"練馬 さくら\"") != std::string::npos);
  }
  SECTION("a search is audited with its count, never the query") {
    auto audit = w.Audit();
    REQUIRE(!audit.empty());
    CHECK(audit.back().action == "child.search");
    for (const auto& e : audit) CHECK(e.detail.find("さくら") == std::string::npos);
  }
}

TEST_CASE("child show masks addresses and audits the view with its reason", "[admin]") {
  World w;
  auto r = w.Run({"child", "show", w.sakura, "--reason", "guardian phoned: no arrival mail"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("練馬 さくら (ねりま さくら)") != std::string::npos);
  CHECK(r.out.find("hikari-1 (光が丘第一学童クラブ)") != std::string::npos);
  CHECK(r.out.find("ha***@e***.jp") != std::string::npos);
  CHECK(r.out.find("ta***@m***.jp") != std::string::npos);
  CHECK(r.out.find("hanako@") == std::string::npos);
  CHECK(r.out.find("not verified") != std::string::npos);
  auto last = w.Audit().back();
  CHECK(last.action == "child.view");
  CHECK(last.detail == "child=" + w.sakura + " reason=guardian phoned: no arrival mail");
  CHECK(w.Run({"child", "show", "999"}).code != 0);
}

TEST_CASE("guardian list reveals addresses only with a reason, and audits it", "[admin]") {
  World w;
  json masked = w.Json({"guardian", "list", "--child", w.sakura});
  REQUIRE(masked.size() == 2);
  CHECK(masked[0]["email"] == "ha***@e***.jp");
  CHECK(masked[0]["verified"] == false);
  CHECK(w.Audit().back().action == "guardian.list");

  auto refused = w.Run({"guardian", "list", "--child", w.sakura, "--reveal"});
  CHECK(refused.code == 2);
  CHECK(refused.err.find("reason") != std::string::npos);
  CHECK(refused.out.find("hanako") == std::string::npos);

  json clear =
      w.Json({"guardian", "list", "--child", w.sakura, "--reveal", "--reason", "address check"});
  CHECK(clear[0]["email"] == "hanako@example.jp");
  CHECK(clear[1]["email"] == "taro.nerima@mail.example.co.jp");
  auto last = w.Audit().back();
  CHECK(last.action == "guardian.reveal");
  CHECK(last.detail == "child=" + w.sakura +
                           " guardians=" + std::to_string(clear[0]["id"].get<int>()) + "," +
                           std::to_string(clear[1]["id"].get<int>()) + " reason=address check");
  CHECK(last.detail.find("hanako") == std::string::npos);
}

TEST_CASE("cards through lost, found, replace and retire on the command line", "[admin]") {
  World w;
  std::string token = w.CardToken();
  std::string prefix = token.substr(0, 8);
  auto r = w.Run({"card", "lost", "--token", prefix});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(w.Json({"card", "list", "--status", "lost"}).at(0)["token"] == token);

  r = w.Run({"card", "found", "--child", w.sakura});
  REQUIRE(r.code == 0);
  CHECK(r.out == "card " + prefix + "… of child " + w.sakura + " is active again\n");
  CHECK(w.Json({"card", "list", "--status", "lost"}).empty());

  r = w.Run({"card", "replace", "--child", w.sakura, "--idm", "1111111111111111"});
  REQUIRE(r.code == 0);
  CHECK(r.out.find("card " + prefix + "… retired") != std::string::npos);
  json cards = w.Json({"card", "list"});
  REQUIRE(cards.size() == 2);
  CHECK(cards[0]["status"] == "retired");
  CHECK(cards[1]["status"] == "active");
  // A retired card cannot be found again; the message says why, not SQL.
  r = w.Run({"card", "found", "--token", token});
  CHECK(r.code != 0);
  CHECK(r.err.find("SQL") == std::string::npos);

  json history = w.Json({"card", "history", "--token", token});
  REQUIRE(history.size() == 4);
  CHECK(history[0]["status"] == "active");
  CHECK(history[1]["status"] == "lost");
  CHECK(history[2]["status"] == "active");
  CHECK(history[3]["status"] == "retired");

  std::string fresh = cards[1]["token"];
  REQUIRE(w.Run({"card", "retire", "--token", fresh}).code == 0);
  CHECK(w.Json({"card", "list", "--status", "active"}).empty());
  CHECK(w.Run({"card", "retire", "--token", "zz"}).code == 2);
}

TEST_CASE("tap list shows each decision in words and mail list each notice's state", "[admin]") {
  World w;
  ChildId child{std::stoll(w.sakura)};
  // Two taps of the card stored as ingest stores them (an enrolled agent, a judged reason).
  REQUIRE(w.Run({"agent", "enroll", "--facility", "hikari-1", "--name", "hikari-1-pc", "--out",
                 (w.dir / "bundle").string()})
              .code == 0);
  auto admin = Admin::Open(w.home, "tester").value();
  auto agent = store::InRead(admin->store(), [](store::ReadTxn& txn) {
                 return txn.agents().Find("hikari-1-pc");
               }).value();
  REQUIRE(agent.has_value());
  TimePoint at = ParseRfc3339("2026-12-02T15:02:00+09:00").value();
  const CardToken card = CardToken::Parse(w.CardToken()).value();
  REQUIRE(store::InWrite(admin->store(), [&](store::WriteTxn& txn) -> Status {
            for (std::uint64_t seq : {1, 2}) {
              store::TapRecord t;
              t.agent = agent->id;
              t.seq = seq;
              t.card = card;
              t.facility = agent->facility;
              t.reader = "entrance";
              t.tapped_at = t.corrected_at = t.received_at = at + Seconds(30 * (seq - 1));
              t.reason = seq == 1 ? Reason::kArrival : Reason::kDuplicate;
              t.child = child;
              ANSHIN_RETURN_IF_ERROR(txn.attendance().InsertTap(t));
            }
            return Status::Ok();
          }).ok());

  json taps = w.Json({"tap", "list", "--child", w.sakura, "--date", "2026-12-02"});
  REQUIRE(taps.size() == 2);
  CHECK(taps[0]["at"] == "2026-12-02T15:02:00+09:00");
  CHECK(taps[0]["reason"] == "arrival");
  CHECK(taps[0]["decision"] == "arrival, mailed");
  CHECK(taps[1]["decision"] == "double tap, no mail");
  CHECK(taps[1]["reader"] == "entrance");
  CHECK(w.Json({"tap", "list", "--child", w.sakura, "--date", "2026-12-01"}).empty());
  CHECK(w.Audit().back().detail == "child=" + w.sakura + " date=2026-12-01");
  CHECK(w.Json({"tap", "list", "--child", w.sakura}).size() == 2);
  CHECK(w.Run({"tap", "list", "--child", w.sakura, "--date", "12/02"}).code == 2);

  // Each guardian add queued a verification mail.
  json mails = w.Json({"mail", "list", "--child", w.sakura});
  REQUIRE(mails.size() == 2);
  CHECK(mails[0]["kind"] == "verification");
  CHECK(mails[0]["state"] == "queued");
  CHECK(mails[0]["attempts"] == 0);
  CHECK(w.Audit().back().action == "mail.list");
}

TEST_CASE("alert list and ack with a note, audited", "[admin]") {
  World w;
  auto admin = Admin::Open(w.home, "tester").value();
  auto facility = admin->inquiries().FacilityByCode("hikari-1").value();
  std::int64_t id = store::InWrite(admin->store(), [&](store::WriteTxn& txn) {
                      store::AlertRecord a;
                      a.kind = AlertKind::kLostCardSeen;
                      a.facility = facility.id;
                      a.child = ChildId{std::stoll(w.sakura)};
                      a.at = ParseRfc3339("2026-12-02T15:02:00+09:00").value();
                      a.detail = "agent=1 seq=5";
                      return txn.alerts().Insert(a);
                    }).value();
  json open = w.Json({"alert", "list", "--open"});
  REQUIRE(open.size() == 1);
  CHECK(open[0]["kind"] == "lost_card_seen");
  CHECK(open[0]["facility"] == "hikari-1");
  CHECK(open[0]["acknowledged"] == false);
  CHECK(w.Json({"alert", "list", "--facility", "hikari-2"}).empty());

  CHECK(w.Run({"alert", "ack", std::to_string(id)}).code != 0);  // --note is required
  auto r = w.Run({"alert", "ack", std::to_string(id), "--note", "card found in the hall"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(w.Json({"alert", "list", "--open"}).empty());
  json all = w.Json({"alert", "list"});
  CHECK(all[0]["note"] == "card found in the hall");
  CHECK(all[0]["acknowledged"] != false);
  CHECK(w.Run({"alert", "ack", "999", "--note", "x"}).code != 0);

  json audit = w.Json({"audit", "list", "--since", "2000-01-01"});
  CHECK(audit.back()["action"] == "alert.ack");
  CHECK(audit.back()["detail"] == "alert=" + std::to_string(id));
  CHECK(w.Json({"audit", "list", "--since", "2999-01-01"}).empty());
  CHECK(w.Run({"audit", "list", "--since", "yesterday"}).code == 2);
}

TEST_CASE("addresses are masked to two characters, the domain's first and its last label",
          "[admin]") {
  CHECK(services::MaskEmail("hanako@example.jp") == "ha***@e***.jp");
  CHECK(services::MaskEmail("a@x.jp") == "a***@x***.jp");
  CHECK(services::MaskEmail("ab@localhost") == "a***@l***");
  CHECK(services::MaskEmail("not an address") == "***");
}

TEST_CASE("listings count wide characters as two columns", "[admin]") {
  CHECK(DisplayWidth("abc") == 3);
  CHECK(DisplayWidth("練馬 さくら") == 11);
  CHECK(DisplayWidth("ｱｲｳ") == 3);  // half-width katakana
  Listing l{{"id", "name"}, {}};
  l.Add({1, "練馬"});
  l.Add({22, "ab"});
  std::ostringstream out;
  WriteListing(l, OutputFormat::kTable, out);
  CHECK(out.str() == "id  name\n1   練馬\n22  ab\n");
  std::ostringstream csv;
  l.Add({3, "a,\"b\""});
  WriteListing(l, OutputFormat::kCsv, csv);
  CHECK(csv.str().find("\"3\",\"a,\"\"b\"\"\"\r\n") != std::string::npos);
}

}  // namespace
}  // namespace anshin::admin::testing
