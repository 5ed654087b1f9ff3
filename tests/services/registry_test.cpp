// The registry's rules (services/): validation where values enter, lifecycles, limits and the
// audit row of every change, against a real SQLite store in a temp dir.
#include <catch2/catch.hpp>

#include "common/validate.hpp"
#include "services/audit_log.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "tests/fakes/seed.hpp"
#include "tests/fakes/temp_dir.hpp"

namespace anshin::services {
namespace {

using fakes::Token;
using store::Actor;

TimePoint T(const char* rfc3339) { return ParseRfc3339(rfc3339).value(); }

struct Fixture {
  fakes::TempDir dir{"registry-test"};
  std::unique_ptr<store::Store> store = [this] {
    store::SqliteOptions o;
    o.path = dir / "anshin.db";
    return std::unique_ptr<store::Store>(store::SqliteStore::Open(o).value());
  }();
  fakes::Seed seed{*store, Actor{"operator-1", T("2026-11-26T09:00:00+09:00")}};
  FacilityId facility = seed.Facility("hikari1", "光が丘第一学童クラブ");
  ChildId child = seed.Child("練馬 さくら", facility);

  std::vector<store::AuditEntry> Audit() {
    return store::InRead(*store, [](store::ReadTxn& t) { return t.audit().List(); }).value();
  }
};

// Names as typed into a file or form that must never reach a mail.
const std::vector<std::pair<const char*, std::string>> kBadNames = {
    {"tab", "練馬\tさくら"},
    {"line break", "光が丘\n第一"},
    {"carriage return", "光が丘\r第一"},
    {"escape", "x\x1b[31my"},
    {"C1 control", "x\xc2\x85y"},
    {"invalid UTF-8", "x\xff\xfey"},
    {"truncated UTF-8", "さくら\xe3\x81"},
    {"100,000 characters", std::string(100000, 'a')},
    {"empty", ""},
    {"only spaces", "   "},
};

TEST_CASE("child and facility names are validated where they enter", "[services]") {
  Fixture fx;
  for (const auto& [what, name] : kBadNames) {
    INFO(what);
    store::Child c;
    c.name = name;
    c.facility = fx.facility;
    Status s = fx.seed.children.Add(c, fx.seed.who).status();
    CHECK(s.code() == Status::Code::kInvalidArgument);
    CHECK(s.message().rfind("name: ", 0) == 0);
    store::Facility f;
    f.code = "new1";
    f.name = name;
    CHECK(fx.seed.facilities.Add(f, fx.seed.who).status().code() == Status::Code::kInvalidArgument);
  }
  // A facility renamed with a line break would have stopped every guardian's mail.
  store::Facility f = fx.seed.facilities.ByCode("hikari1").value();
  f.name = "光が丘第一\n学童クラブ";
  CHECK(fx.seed.facilities.Update(f, fx.seed.who).code() == Status::Code::kInvalidArgument);
  CHECK(fx.seed.facilities.ByCode("hikari1").value().name == "光が丘第一学童クラブ");
  // Good names pass.
  for (const char* good : {"練馬 さくら", "ｱｲｳ ｴｵ", "O'Brien-Smith", "光が丘第一学童クラブ"}) {
    store::Child c;
    c.name = good;
    c.facility = fx.facility;
    CHECK(fx.seed.children.Add(c, fx.seed.who).ok());
  }
}

TEST_CASE("facility codes, zones and engine parameters are checked", "[services]") {
  Fixture fx;
  store::Facility f;
  f.name = "x";
  for (const char* bad : {"", "has space", "日本語", "a/b"}) {
    f.code = bad;
    CHECK(fx.seed.facilities.Add(f, fx.seed.who).status().code() == Status::Code::kInvalidArgument);
  }
  f.code = "hikari1";
  CHECK(fx.seed.facilities.Add(f, fx.seed.who).status().code() == Status::Code::kAlreadyExists);
  f.code = "ok-2";
  f.rules.double_tap_window = Seconds(-1);
  CHECK(fx.seed.facilities.Add(f, fx.seed.who).status().code() == Status::Code::kInvalidArgument);
  f.rules = FacilityRules{};
  f.opens = LocalTime::HM(20, 0);
  CHECK(fx.seed.facilities.Add(f, fx.seed.who).status().code() == Status::Code::kInvalidArgument);
  f.opens = LocalTime::HM(13, 0);
  Facilities strict(*fx.store,
                    [](const std::string& name) -> Result<std::shared_ptr<const TimeZone>> {
                      return Status::NotFound("no zone " + name);
                    });
  CHECK(strict.Add(f, fx.seed.who).status().message().rfind("tz: ", 0) == 0);
  REQUIRE(fx.seed.facilities.Add(f, fx.seed.who).ok());
  CHECK(fx.seed.facilities.ByCode("nope").status().code() == Status::Code::kNotFound);
}

TEST_CASE("addresses the mailer would refuse are refused at registration", "[services]") {
  // Defect: the store accepted these, and every mail to them then failed at send time.
  Fixture fx;
  for (const std::string& bad : std::vector<std::string>{
           "a@x_y.jp", "a@-x.jp", "a@x-.jp", "a[b]@x.jp", std::string(65, 'a') + "@example.jp",
           "a@b.c\r\nBcc: x@y.z", "no-at.example.jp", "two@@example.jp", "sp ace@example.jp",
           "x@nodot", "@example.jp", "x@example.jp\n", ".a@example.jp", "a@example..jp",
           "さくら@example.jp"}) {
    INFO(bad);
    store::Guardian g;
    g.child = fx.child;
    g.email = bad;
    Status s = fx.seed.guardians.Add(g, fx.seed.who).status();
    CHECK(s.code() == Status::Code::kInvalidArgument);
    CHECK(s.message().find(bad) == std::string::npos);  // never echoes the address
    CHECK_FALSE(CheckEmailAddress(bad).ok());
  }
  for (const char* good :
       {"sakura.mama@example.jp", "a+b@mail.example.co.jp", "x_y@e-x.jp", "A1@EXAMPLE.JP",
        // Japanese carriers issued such addresses before they enforced RFC 5322; they work.
        "taro..yamada.@docomo.ne.jp"}) {
    CHECK(CheckEmailAddress(good).ok());
  }
}

TEST_CASE("a child has at most four guardians, each address once", "[services]") {
  Fixture fx;
  fx.seed.Guardian(fx.child, "one@example.jp");
  store::Guardian again;
  again.child = fx.child;
  again.email = "ONE@example.jp";
  Status dup = fx.seed.guardians.Add(again, fx.seed.who).status();
  CHECK(dup.code() == Status::Code::kAlreadyExists);
  fx.seed.Guardian(fx.child, "two@example.jp");
  fx.seed.Guardian(fx.child, "three@example.jp");
  fx.seed.Guardian(fx.child, "four@example.jp");
  again.email = "five@example.jp";
  CHECK(fx.seed.guardians.Add(again, fx.seed.who).status().code() ==
        Status::Code::kFailedPrecondition);
  // Another child may use the same address.
  ChildId sibling = fx.seed.Child("練馬 はると", fx.facility);
  fx.seed.Guardian(sibling, "one@example.jp");
}

TEST_CASE("verification by code: attempts, expiry and a resend", "[services]") {
  Fixture fx;
  VerificationTicket t = fx.seed.Guardian(fx.child, "parent@example.jp");
  CHECK(t.code.size() == 6);
  CHECK(t.link_token.size() == 32);
  CHECK_FALSE(fx.seed.guardians.Get(t.guardian).value().verified);
  auto rows = store::InRead(*fx.store, [&](store::ReadTxn& r) {
                return r.outbox().List(fx.child);
              }).value();
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].message.kind == store::OutboxKind::kVerification);
  CHECK(rows[0].message.verification_code == t.code);

  const GuardianLimits limits = fx.seed.guardians.limits();
  const std::string wrong = t.code == "000000" ? "111111" : "000000";
  for (int i = 0; i < limits.max_attempts; ++i) {
    CHECK(fx.seed.guardians.VerifyByCode(t.guardian, wrong, fx.seed.who).code() ==
          Status::Code::kInvalidArgument);
  }
  CHECK(fx.seed.guardians.VerifyByCode(t.guardian, t.code, fx.seed.who).code() ==
        Status::Code::kResourceExhausted);

  VerificationTicket t2 = fx.seed.guardians.ResendVerification(t.guardian, fx.seed.who).value();
  Actor late{"operator-1", fx.seed.who.at + limits.code_lifetime + Millis(1)};
  CHECK(fx.seed.guardians.VerifyByCode(t.guardian, t2.code, late).code() ==
        Status::Code::kFailedPrecondition);
  Actor soon{"operator-2", fx.seed.who.at + Seconds(1)};
  REQUIRE(fx.seed.guardians.VerifyByCode(t.guardian, t2.code, soon).ok());
  CHECK(fx.seed.guardians.Get(t.guardian).value().verified);
  CHECK(fx.seed.guardians.ResendVerification(t.guardian, fx.seed.who).status().code() ==
        Status::Code::kFailedPrecondition);
  // The operator who entered the code is the actor of the audit row, in one transaction.
  auto audit = fx.Audit();
  CHECK(audit.back().action == "guardian.verified");
  CHECK(audit.back().actor == "operator-2");
  CHECK(audit[audit.size() - 2].action == "guardian.resend_verification");
}

TEST_CASE("verification by link, sends are limited per day, old codes die", "[services]") {
  Fixture fx;
  VerificationTicket t = fx.seed.Guardian(fx.child, "parent@example.jp");
  CHECK(fx.seed.guardians.VerifyByLink(std::string(32, '0'), fx.seed.who.at).status().code() ==
        Status::Code::kNotFound);
  CHECK(fx.seed.guardians.VerifyByLink(t.link_token, fx.seed.who.at).value() == t.guardian);
  CHECK(fx.seed.guardians.VerifyByLink(t.link_token, fx.seed.who.at).status().code() ==
        Status::Code::kNotFound);  // used

  VerificationTicket u = fx.seed.Guardian(fx.child, "other@example.jp");  // send 1
  for (int i = 1; i < fx.seed.guardians.limits().max_sends_per_day; ++i)
    REQUIRE(fx.seed.guardians.ResendVerification(u.guardian, fx.seed.who).ok());
  CHECK(fx.seed.guardians.ResendVerification(u.guardian, fx.seed.who).status().code() ==
        Status::Code::kResourceExhausted);
  CHECK(fx.seed.guardians.VerifyByLink(u.link_token, fx.seed.who.at).status().code() ==
        Status::Code::kNotFound);  // superseded
  Actor tomorrow{"operator-1", fx.seed.who.at + std::chrono::hours(25)};
  VerificationTicket last = fx.seed.guardians.ResendVerification(u.guardian, tomorrow).value();
  int live = 0;
  const std::vector<store::OutboxRow> rows = store::InRead(*fx.store, [&](store::ReadTxn& rt) {
                                               return rt.outbox().List(fx.child);
                                             }).value();
  for (const auto& r : rows) {
    if (r.message.guardian == u.guardian && r.state == store::OutboxState::kQueued) {
      ++live;
      CHECK(r.message.verification_code == last.code);
    }
  }
  CHECK(live == 1);
  CHECK(fx.seed.guardians.VerifyByLink(last.link_token, tomorrow.at + std::chrono::hours(25))
            .status()
            .code() == Status::Code::kFailedPrecondition);  // expired
}

TEST_CASE("assigning a card retires the previous one, a known card is refused by owner",
          "[services]") {
  Fixture fx;
  REQUIRE(fx.seed.cards.Assign(fx.child, Token('a'), fx.seed.who).ok());
  REQUIRE(fx.seed.cards.Assign(fx.child, Token('b'), fx.seed.who).ok());
  auto cards = fx.seed.cards.OfChild(fx.child).value();
  REQUIRE(cards.size() == 2);
  CHECK(cards[0].status == CardStatus::kRetired);
  CHECK(cards[1].status == CardStatus::kActive);
  CHECK(fx.seed.cards.Assign(fx.child, Token('b'), fx.seed.who).code() ==
        Status::Code::kAlreadyExists);
  CHECK(fx.Audit().back().detail == "child=" + fx.child.ToString() + " token=" + Token('b').hex() +
                                        " retired=" + Token('a').hex());
  ChildId other = fx.seed.Child("練馬 はると", fx.facility);
  Status reused = fx.seed.cards.Assign(other, Token('a'), fx.seed.who);
  CHECK(reused.code() == Status::Code::kAlreadyExists);
  CHECK(reused.message() == "card already assigned to child " + fx.child.ToString());

  REQUIRE(fx.seed.cards.MarkLost(Token('b'), fx.seed.who).ok());
  CHECK(fx.seed.cards.MarkLost(Token('b'), fx.seed.who).code() ==
        Status::Code::kFailedPrecondition);
  CHECK(fx.seed.cards.MarkLost(Token('c'), fx.seed.who).code() == Status::Code::kNotFound);
  CHECK(fx.seed.cards.MarkChildCardLost(fx.child, fx.seed.who).status().code() ==
        Status::Code::kNotFound);
  REQUIRE(fx.seed.cards.Assign(fx.child, Token('c'), fx.seed.who).ok());
  CHECK(fx.seed.cards.MarkChildCardLost(fx.child, fx.seed.who).value() == Token('c'));
}

TEST_CASE("an agent is enrolled only if its bundle was written, revoked stays revoked",
          "[services]") {
  Fixture fx;
  store::Agent a;
  a.name = "hikari1-pc";
  a.facility = fx.facility;
  a.cert_sha256 = std::string(64, 'a');
  a.enrolled_at = fx.seed.who.at;
  bool undone = false;
  Result<AgentId> failed = fx.seed.agents.Enroll(
      a, fx.seed.who, [] { return Status::Unavailable("disk full writing agent.crt"); },
      [&] { undone = true; });
  CHECK(failed.status().code() == Status::Code::kUnavailable);
  CHECK_FALSE(undone);  // nothing to undo: the bundle step itself failed
  CHECK(fx.seed.agents.Get("hikari1-pc").status().code() == Status::Code::kNotFound);
  for (const auto& e : fx.Audit()) CHECK(e.action != "agent.enroll");

  bool wrote = false;
  REQUIRE(fx.seed.agents
              .Enroll(a, fx.seed.who,
                      [&] {
                        wrote = true;
                        return Status::Ok();
                      })
              .ok());
  CHECK(wrote);
  CHECK(fx.seed.agents.Enroll(a, fx.seed.who).status().code() == Status::Code::kAlreadyExists);
  a.name = "bad name!";
  CHECK(fx.seed.agents.Enroll(a, fx.seed.who).status().code() == Status::Code::kInvalidArgument);

  REQUIRE(fx.seed.agents.SetStatus("hikari1-pc", store::AgentStatus::kDisabled, fx.seed.who).ok());
  REQUIRE(fx.seed.agents.SetStatus("hikari1-pc", store::AgentStatus::kActive, fx.seed.who).ok());
  REQUIRE(fx.seed.agents.SetStatus("hikari1-pc", store::AgentStatus::kRevoked, fx.seed.who).ok());
  CHECK(fx.seed.agents.SetStatus("hikari1-pc", store::AgentStatus::kActive, fx.seed.who).code() ==
        Status::Code::kFailedPrecondition);
  CHECK(fx.seed.agents.SetStatus("nobody", store::AgentStatus::kActive, fx.seed.who).code() ==
        Status::Code::kNotFound);
  CHECK(fx.Audit().back().action == "agent.revoked");
}

TEST_CASE("every change is audited and the chain verifies", "[services]") {
  Fixture fx;
  fx.seed.VerifiedGuardian(fx.child, "parent@example.jp");
  REQUIRE(fx.seed.cards.Assign(fx.child, Token('a'), fx.seed.who).ok());
  std::vector<std::string> actions;
  for (const auto& e : fx.Audit()) {
    actions.push_back(e.action);
    CHECK(e.detail.find("練馬") == std::string::npos);               // no names
    CHECK(e.detail.find("parent@example.jp") == std::string::npos);  // no addresses
  }
  CHECK(actions == std::vector<std::string>{"facility.add", "child.add", "guardian.add",
                                            "guardian.verified", "card.assign"});
  CHECK(store::InRead(*fx.store, [](store::ReadTxn& t) { return VerifyAuditChain(t); }).ok());
}

}  // namespace
}  // namespace anshin::services
