// services::Agents beyond enrolment: certificate renewal, accepting a seq gap, the skew history;
// against a real SQLite store in a temp dir.
#include <catch2/catch.hpp>

#include "services/agents.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "tests/fakes/seed.hpp"
#include "tests/fakes/temp_dir.hpp"

namespace anshin::services {
namespace {

using fakes::Token;
using store::Actor;

TimePoint T(const char* rfc3339) { return ParseRfc3339(rfc3339).value(); }

struct Fixture {
  fakes::TempDir dir{"agents-test"};
  std::unique_ptr<store::Store> store = [this] {
    store::SqliteOptions o;
    o.path = dir / "anshin.db";
    return std::unique_ptr<store::Store>(store::SqliteStore::Open(o).value());
  }();
  fakes::Seed seed{*store, Actor{"operator-1", T("2026-11-26T09:00:00+09:00")}};
  FacilityId facility = seed.Facility("hikari1", "光が丘第一学童クラブ");
  AgentId agent = [this] {
    store::Agent a;
    a.name = "hikari1-pc";
    a.facility = facility;
    a.cert_sha256 = std::string(64, 'a');
    a.cert_not_after = T("2027-01-10T09:00:00+09:00");
    a.enrolled_at = seed.who.at;
    return seed.agents.Enroll(a, seed.who).value();
  }();

  std::vector<store::AuditEntry> Audit() {
    return store::InRead(*store, [](store::ReadTxn& t) { return t.audit().List(); }).value();
  }
  // Stores the agent's taps with these seqs and records the contact an upload would.
  void StoreTaps(std::initializer_list<std::uint64_t> seqs) {
    REQUIRE(store::InWrite(*store, [&](store::WriteTxn& txn) -> Status {
              for (std::uint64_t seq : seqs) {
                store::TapRecord t;
                t.agent = agent;
                t.seq = seq;
                t.card = Token('1');
                t.facility = facility;
                t.reader = "entrance";
                t.tapped_at = t.corrected_at = t.received_at = seed.who.at;
                ANSHIN_RETURN_IF_ERROR(txn.attendance().InsertTap(t));
              }
              auto through = txn.attendance().ContiguousThrough(agent, 0).value();
              store::AgentContact c;
              c.at = seed.who.at;
              c.acked_through = through.first;
              c.gap = through.second;
              return txn.agents().RecordContact(agent, c);
            }).ok());
  }
};

TEST_CASE("a renewal replaces the certificate, is audited, and never revives a revoked agent",
          "[services]") {
  Fixture fx;
  const TimePoint expiry = T("2029-02-28T09:00:00+09:00");
  const std::string sha(64, 'b');

  // The files could not be written: nothing changes.
  bool undone = false;
  auto failed = fx.seed.agents.Renew(
      "hikari1-pc", sha, expiry, fx.seed.who, [] { return Status::Unavailable("disk full"); },
      [&] { undone = true; });
  CHECK(failed.status().code() == Status::Code::kUnavailable);
  CHECK_FALSE(undone);
  CHECK(fx.seed.agents.Get("hikari1-pc").value().cert_sha256 == std::string(64, 'a'));
  for (const auto& e : fx.Audit()) CHECK(e.action != "agent.renew");

  auto old = fx.seed.agents.Renew("hikari1-pc", sha, expiry, fx.seed.who);
  REQUIRE(old.ok());
  CHECK(old->cert_sha256 == std::string(64, 'a'));
  store::Agent now = fx.seed.agents.Get("hikari1-pc").value();
  CHECK(now.cert_sha256 == sha);
  CHECK(now.cert_not_after == expiry);
  const store::AuditEntry last = fx.Audit().back();
  CHECK(last.action == "agent.renew");
  CHECK(last.detail.find("old_cert_sha256=" + std::string(64, 'a')) != std::string::npos);
  CHECK(last.detail.find(" cert_sha256=" + sha) != std::string::npos);

  CHECK(fx.seed.agents.Renew("nobody", sha, expiry, fx.seed.who).status().code() ==
        Status::Code::kNotFound);
  REQUIRE(fx.seed.agents.SetStatus("hikari1-pc", store::AgentStatus::kRevoked, fx.seed.who).ok());
  CHECK(fx.seed.agents.Renew("hikari1-pc", std::string(64, 'c'), expiry, fx.seed.who)
            .status()
            .code() == Status::Code::kFailedPrecondition);
  CHECK(fx.seed.agents.Get("hikari1-pc").value().cert_sha256 == sha);
}

TEST_CASE("accepting a gap moves the acknowledgement past it and over the taps after it",
          "[services]") {
  Fixture fx;
  CHECK(fx.seed.agents.AcceptGap("hikari1-pc", fx.seed.who).status().code() ==
        Status::Code::kFailedPrecondition);  // no gap yet
  // Seqs 1-3 stored, 4-6 lost (a server restore), 7-8 stored, 9 missing, 10 stored.
  fx.StoreTaps({1, 2, 3, 7, 8, 10});
  store::Agent before = fx.seed.agents.Get("hikari1-pc").value();
  REQUIRE(before.acked_through == 3);
  REQUIRE(before.gap == wire::SeqGap{4, 6});

  auto after = fx.seed.agents.AcceptGap("hikari1-pc", fx.seed.who);
  REQUIRE(after.ok());
  CHECK(after->acked_through == 8);
  CHECK(after->gap == wire::SeqGap{9, 9});
  store::Agent stored = fx.seed.agents.Get("hikari1-pc").value();
  CHECK(stored.acked_through == 8);
  CHECK(stored.gap == wire::SeqGap{9, 9});
  const store::AuditEntry e = fx.Audit().back();
  CHECK(e.action == "agent.accept_gap");
  CHECK(e.detail == "agent=hikari1-pc from=4 to=6 acked_through=8");

  after = fx.seed.agents.AcceptGap("hikari1-pc", fx.seed.who);
  REQUIRE(after.ok());
  CHECK(after->acked_through == 10);
  CHECK_FALSE(after->gap);
  CHECK(fx.seed.agents.AcceptGap("hikari1-pc", fx.seed.who).status().code() ==
        Status::Code::kFailedPrecondition);
  CHECK(fx.seed.agents.AcceptGap("nobody", fx.seed.who).status().code() == Status::Code::kNotFound);
}

TEST_CASE("the skew history is the agent's samples since a time", "[services]") {
  Fixture fx;
  const TimePoint t0 = fx.seed.who.at;
  REQUIRE(store::InWrite(*fx.store, [&](store::WriteTxn& txn) -> Status {
            ANSHIN_RETURN_IF_ERROR(txn.agents().RecordSkewSample(fx.agent, {t0, 300}));
            return txn.agents().RecordSkewSample(fx.agent, {t0 + std::chrono::hours(1), 150000});
          }).ok());
  auto all = fx.seed.agents.SkewHistory("hikari1-pc", t0);
  REQUIRE(all.ok());
  CHECK(*all == std::vector<store::SkewSample>{{t0, 300}, {t0 + std::chrono::hours(1), 150000}});
  CHECK(fx.seed.agents.SkewHistory("hikari1-pc", t0 + Millis(1)).value().size() == 1);
  CHECK(fx.seed.agents.SkewHistory("nobody", t0).status().code() == Status::Code::kNotFound);
}

}  // namespace
}  // namespace anshin::services
