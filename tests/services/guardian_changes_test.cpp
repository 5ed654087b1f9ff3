// Guardian changes after registration (services/guardians): a new address starts unverified
// and never receives mail queued for the old one; choices; removal erases the address and
// frees the place; every change audited without the address. Against a real SQLite store.
#include <catch2/catch.hpp>

#include <algorithm>

#include "services/audit_log.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "tests/fakes/seed.hpp"
#include "tests/fakes/temp_dir.hpp"

namespace anshin::services {
namespace {

using store::Actor;

TimePoint T(const char* rfc3339) { return ParseRfc3339(rfc3339).value(); }

struct Fixture {
  fakes::TempDir dir{"guardian-changes-test"};
  std::unique_ptr<store::Store> store = [this] {
    store::SqliteOptions o;
    o.path = dir / "anshin.db";
    return std::unique_ptr<store::Store>(store::SqliteStore::Open(o).value());
  }();
  fakes::Seed seed{*store, Actor{"operator-1", T("2026-11-26T09:00:00+09:00")}};
  FacilityId facility = seed.Facility("hikari1", "光が丘第一学童クラブ");
  ChildId child = seed.Child("練馬 さくら", facility);

  // A departure notice queued for the guardian, as the engine would have.
  std::int64_t QueueNotice(GuardianId g) {
    return store::InWrite(*store,
                          [&](store::WriteTxn& txn) {
                            store::OutboxMessage m;
                            m.kind = store::OutboxKind::kDeparture;
                            m.guardian = g;
                            m.child = child;
                            m.facility = facility;
                            m.tap_at = seed.who.at;
                            m.created_at = seed.who.at;
                            return txn.outbox().Insert(m);
                          })
        .value();
  }
  store::OutboxRow Mail(std::int64_t id) {
    const auto rows =
        store::InRead(*store, [&](store::ReadTxn& t) { return t.outbox().List(child); }).value();
    for (const auto& r : rows) {
      if (r.id == id) return r;
    }
    FAIL("no outbox row " << id);
    return {};
  }
  std::vector<GuardianId> Targets(NoticeKind kind) {
    return store::InRead(
               *store, [&](store::ReadTxn& t) { return t.guardians().NoticeTargets(child, kind); })
        .value();
  }
  std::vector<store::AuditEntry> Audit() {
    return store::InRead(*store, [](store::ReadTxn& t) { return t.audit().List(); }).value();
  }
};

TEST_CASE("a changed address starts unverified and gets none of the old address's mail",
          "[services]") {
  Fixture fx;
  const GuardianId g = fx.seed.VerifiedGuardian(fx.child, "haha@example.jp");
  const GuardianId other = fx.seed.VerifiedGuardian(fx.child, "chichi@example.jp");
  const std::int64_t queued = fx.QueueNotice(g);

  SECTION("an address the child already has, or a malformed one, is refused") {
    GuardianChange dup;
    dup.email = "CHICHI@example.jp";
    CHECK(fx.seed.guardians.Update(g, dup, fx.seed.who).status().code() ==
          Status::Code::kAlreadyExists);
    GuardianChange bad;
    bad.email = "haha@example.jp\r\nBcc: x@evil.example";
    CHECK(fx.seed.guardians.Update(g, bad, fx.seed.who).status().code() ==
          Status::Code::kInvalidArgument);
    CHECK(fx.seed.guardians.Get(g).value().verified);
    CHECK(fx.Mail(queued).state == store::OutboxState::kQueued);
  }

  SECTION("a new address: unverified, verification mail queued, old queued mail dropped") {
    REQUIRE(store::InWrite(*fx.store, [&](store::WriteTxn& t) {
              return t.guardians().SetBouncing(g, true);
            }).ok());
    GuardianChange change;
    change.email = "haha.new@example.jp";
    const GuardianUpdate u = fx.seed.guardians.Update(g, change, fx.seed.who).value();
    CHECK(u.changed == std::vector<std::string>{"email"});
    REQUIRE(u.verification.has_value());
    CHECK(u.dropped_mails == 2);  // the notice, and the first verification mail not sent yet
    const store::Guardian now = fx.seed.guardians.Get(g).value();
    CHECK(now.email == "haha.new@example.jp");
    CHECK_FALSE(now.verified);
    CHECK_FALSE(now.bouncing);
    CHECK(fx.Mail(queued).state == store::OutboxState::kFailed);
    CHECK(fx.Mail(queued).last_error == "the address was changed");
    CHECK(fx.Mail(u.verification->outbox_id).state == store::OutboxState::kQueued);
    CHECK(fx.Targets(NoticeKind::kDeparture) == std::vector<GuardianId>{other});
    // The new address is verified like a new guardian's.
    REQUIRE(fx.seed.guardians.VerifyByCode(g, u.verification->code, fx.seed.who).ok());
    CHECK(fx.Targets(NoticeKind::kDeparture) == std::vector<GuardianId>{g, other});
    const auto audit = fx.Audit();
    const auto it = std::find_if(audit.begin(), audit.end(), [](const store::AuditEntry& e) {
      return e.action == "guardian.update";
    });
    REQUIRE(it != audit.end());
    CHECK(it->detail ==
          "guardian=" + g.ToString() + " child=" + fx.child.ToString() + " fields=email");
    CHECK(store::InRead(*fx.store, [](store::ReadTxn& t) { return VerifyAuditChain(t); }).ok());
  }

  SECTION("the same address in other case is no change") {
    GuardianChange same;
    same.email = "HAHA@example.jp";
    const auto before = fx.Audit().size();
    CHECK(fx.seed.guardians.Update(g, same, fx.seed.who).value().changed.empty());
    CHECK(fx.seed.guardians.Get(g).value().verified);
    CHECK(fx.Audit().size() == before);
  }
}

TEST_CASE("a guardian's choices decide which notices reach them", "[services]") {
  Fixture fx;
  const GuardianId g = fx.seed.VerifiedGuardian(fx.child, "haha@example.jp");
  GuardianChange prefs;
  prefs.arrival = false;
  prefs.departure = true;  // already so: not a change
  const GuardianUpdate u = fx.seed.guardians.Update(g, prefs, fx.seed.who).value();
  CHECK(u.changed == std::vector<std::string>{"arrival"});
  CHECK_FALSE(u.verification.has_value());
  CHECK(fx.seed.guardians.Get(g).value().verified);
  CHECK(fx.Targets(NoticeKind::kArrival).empty());
  CHECK(fx.Targets(NoticeKind::kDeparture) == std::vector<GuardianId>{g});
  GuardianChange jis;
  jis.charset = store::Charset::kIso2022Jp;
  CHECK(fx.seed.guardians.Update(g, jis, fx.seed.who).value().changed ==
        std::vector<std::string>{"charset"});
  CHECK(fx.seed.guardians.Get(g).value().charset == store::Charset::kIso2022Jp);
  CHECK(fx.Audit().back().detail ==
        "guardian=" + g.ToString() + " child=" + fx.child.ToString() + " fields=charset");
}

TEST_CASE("a removed guardian's address is erased, mailed nothing, and frees the place",
          "[services]") {
  Fixture fx;
  std::vector<GuardianId> four;
  for (const char* a : {"a@example.jp", "b@example.jp", "c@example.jp", "d@example.jp"})
    four.push_back(fx.seed.VerifiedGuardian(fx.child, a));
  const std::int64_t queued = fx.QueueNotice(four[1]);
  store::Guardian fifth;
  fifth.child = fx.child;
  fifth.email = "e@example.jp";
  CHECK(fx.seed.guardians.Add(fifth, fx.seed.who).status().code() ==
        Status::Code::kFailedPrecondition);

  // The notice, and the verification mail still queued (no mailer runs here).
  CHECK(fx.seed.guardians.Remove(four[1], fx.seed.who).value() == 2);
  const store::Guardian removed = fx.seed.guardians.Get(four[1]).value();
  CHECK(removed.removed);
  CHECK(removed.email.empty());
  CHECK_FALSE(removed.verified);
  CHECK(fx.Mail(queued).state == store::OutboxState::kFailed);
  CHECK(fx.Targets(NoticeKind::kDeparture) == std::vector<GuardianId>{four[0], four[2], four[3]});
  const auto listed = store::InRead(*fx.store, [&](store::ReadTxn& t) {
                        return t.guardians().OfChild(fx.child);
                      }).value();
  CHECK(listed.size() == 3);
  // The place is free again, and the erased address may come back as a new guardian.
  REQUIRE(fx.seed.guardians.Add(fifth, fx.seed.who).ok());
  store::Guardian back = fifth;
  back.email = "b@example.jp";
  CHECK(fx.seed.guardians.Add(back, fx.seed.who).status().code() ==
        Status::Code::kFailedPrecondition);  // four again

  CHECK(fx.seed.guardians.Remove(four[1], fx.seed.who).status().code() ==
        Status::Code::kFailedPrecondition);
  CHECK(fx.seed.guardians.ResendVerification(four[1], fx.seed.who).status().code() ==
        Status::Code::kFailedPrecondition);
  GuardianChange change;
  change.email = "z@example.jp";
  CHECK(fx.seed.guardians.Update(four[1], change, fx.seed.who).status().code() ==
        Status::Code::kFailedPrecondition);
  CHECK(fx.Audit().back().action == "guardian.add");
  bool audited = false;
  for (const auto& e : fx.Audit()) {
    if (e.action == "guardian.remove") {
      audited = true;
      CHECK(e.detail == "guardian=" + four[1].ToString() + " child=" + fx.child.ToString());
    }
  }
  CHECK(audited);
}

}  // namespace
}  // namespace anshin::services
