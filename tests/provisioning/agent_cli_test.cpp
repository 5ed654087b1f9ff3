// anshin-admin agent renew | list | skew | accept-gap against a real home in a temp dir; the
// certificates are read back with OpenSSL.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/sys/sys.hpp"
#include "provisioning/pki.hpp"
#include "services/audit_log.hpp"
#include "tests/fakes/seed.hpp"
#include "tests/provisioning/cli_harness.hpp"

namespace anshin::admin::testing {
namespace {

namespace fs = std::filesystem;

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

Certificate Load(const fs::path& p) {
  return ParseCertificatePem(sys::ReadFile(p).value()).value();
}

struct AgentHome : TestHome {
  fs::path bundle = dir / "bundle";
  AgentHome() {
    auto r = Run({"agent", "enroll", "--facility", "hikari-1", "--name", "hikari-1-pc", "--out",
                  bundle.string()});
    INFO(r.err);
    REQUIRE(r.code == 0);
  }
  store::Agent Agent() const {
    return Read([](store::ReadTxn& t) { return t.agents().Find("hikari-1-pc"); }).value();
  }
  // Writes through the home's store (what the server would have written); `fn` must not open
  // the home again.
  template <typename Fn>
  void Write(Fn&& fn) const {
    auto admin = Admin::Open(home, "tester").value();
    REQUIRE(store::InWrite(admin->store(), std::forward<Fn>(fn)).ok());
  }
  std::vector<store::AuditEntry> Audit() const {
    return Read([](store::ReadTxn& t) { return t.audit().List(); });
  }
};

TEST_CASE("enrol records the certificate's expiry, list shows it", "[admin]") {
  AgentHome h;
  Certificate cert = Load(h.bundle / "agent.crt");
  const store::Agent a = h.Agent();
  REQUIRE(a.cert_not_after);
  CHECK(*a.cert_not_after == CertificateNotAfter(cert.get()).value());
  // 825 days from 5 minutes before now.
  const auto days_left =
      std::chrono::duration_cast<std::chrono::hours>(*a.cert_not_after - SystemClock().Now())
          .count() /
      24;
  CHECK(days_left == 824);
  auto list = h.Run({"agent", "list"});
  REQUIRE(list.code == 0);
  const auto zone = sys::LoadTimeZone("Asia/Tokyo").value();
  CHECK(Has(list.out, "until " + zone->DateOf(*a.cert_not_after).ToString() + ", 824 d"));
}

TEST_CASE("renew issues a new key and certificate, only the new one is the agent's", "[admin]") {
  AgentHome h;
  const store::Agent before = h.Agent();
  const std::string old_key = sys::ReadFile(h.bundle / "agent.key").value();
  fs::path out = h.dir / "renewed";
  auto r =
      h.Run({"agent", "renew", "--agent", "hikari-1-pc", "--out", out.string(), "--days", "365"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(Has(r.out, "the old certificate (sha256 " + before.cert_sha256 + ") is refused"));

  Certificate cert = Load(out / "agent.crt");
  PrivateKey key = ParsePrivateKeyPem(sys::ReadFile(out / "agent.key").value()).value();
  CHECK(X509_check_private_key(cert.get(), key.get()) == 1);
  CHECK(sys::ReadFile(out / "agent.key").value() != old_key);
  CHECK(sys::ReadFile(out / "ca.crt").value() == sys::ReadFile(h.home / "pki/ca.crt").value());
  char cn[128] = {0};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, cn, sizeof cn);
  CHECK(std::string(cn) == "hikari-1-pc");

  const store::Agent after = h.Agent();
  CHECK(after.cert_sha256 == CertificateSha256(cert.get()).value());
  CHECK(after.cert_sha256 != before.cert_sha256);
  CHECK(after.cert_not_after == CertificateNotAfter(cert.get()).value());
  CHECK(*after.cert_not_after < *before.cert_not_after);  // 365 days instead of 825
  const store::AuditEntry e = h.Audit().back();
  CHECK(e.action == "agent.renew");
  CHECK(Has(e.detail, "old_cert_sha256=" + before.cert_sha256));
  CHECK(Has(h.Run({"agent", "list"}).out, ", 364 d"));

  CHECK(h.Run({"agent", "renew", "--agent", "hikari-1-pc", "--out", out.string(), "--days", "0"})
            .code == 2);
  CHECK(h.Run({"agent", "renew", "--agent", "nobody", "--out", out.string()}).code != 0);
  REQUIRE(h.Run({"agent", "revoke", "hikari-1-pc"}).code == 0);
  fs::path refused = h.dir / "refused";
  auto revoked = h.Run({"agent", "renew", "--agent", "hikari-1-pc", "--out", refused.string()});
  CHECK(revoked.code != 0);
  CHECK(Has(revoked.err, "revoked"));
  CHECK_FALSE(fs::exists(refused / "agent.crt"));
  CHECK(h.Agent().cert_sha256 == after.cert_sha256);
}

TEST_CASE("list shows each health figure with the time it was reported", "[admin]") {
  AgentHome h;
  auto list = h.Run({"agent", "list"});
  REQUIRE(list.code == 0);
  CHECK(Has(list.out, "never"));  // no contact yet, no health
  const TimePoint reported = SystemClock().Now() - std::chrono::hours(3) - Minutes(5);
  const AgentId id = h.Agent().id;
  h.Write([&](store::WriteTxn& txn) {
    store::AgentContact c;
    c.at = reported;
    c.skew_ms = 150000;
    c.health_json = R"({"reader_state":"ok","queue_depth":2})";
    return txn.agents().RecordContact(id, c);
  });
  const auto zone = sys::LoadTimeZone("Asia/Tokyo").value();
  const LocalDateTime local = zone->ToLocal(reported);
  const std::string when = local.date == zone->DateOf(SystemClock().Now())
                               ? local.time.ToString()
                               : local.date.ToString() + " " + local.time.ToString();
  list = h.Run({"agent", "list"});
  REQUIRE(list.code == 0);
  INFO(list.out);
  CHECK(Has(list.out, "reader ok, queue 2, as of " + when + ", 3 h ago"));
  CHECK(Has(list.out, "150000 ms (SKEW)"));
  auto json = h.Run({"agent", "list", "--format", "json"});
  REQUIRE(json.code == 0);
  auto rows = nlohmann::json::parse(json.out);
  CHECK(rows.at(0).at("last_contact") == when + ", 3 h ago");
}

TEST_CASE("skew lists the agent's clock-skew history since a time", "[admin]") {
  AgentHome h;
  const TimePoint now = SystemClock().Now();
  const AgentId id = h.Agent().id;
  h.Write([&](store::WriteTxn& txn) -> Status {
    ANSHIN_RETURN_IF_ERROR(txn.agents().RecordSkewSample(id, {now - std::chrono::hours(50), 400}));
    return txn.agents().RecordSkewSample(id, {now - std::chrono::hours(2), -180000});
  });
  auto recent =
      h.Run({"agent", "skew", "--agent", "hikari-1-pc", "--since", "1d", "--format", "csv"});
  REQUIRE(recent.code == 0);
  CHECK(Has(recent.out, "\"-180000\",\"yes\""));
  CHECK_FALSE(Has(recent.out, "\"400\""));
  auto all = h.Run({"agent", "skew", "--agent", "hikari-1-pc", "--format", "csv"});
  REQUIRE(all.code == 0);
  CHECK(Has(all.out, "\"400\""));
  CHECK(Has(all.out, "\"-180000\""));
  CHECK(h.Run({"agent", "skew", "--agent", "hikari-1-pc", "--since", "soon"}).code == 2);
  CHECK(h.Run({"agent", "skew", "--agent", "nobody"}).code != 0);
}

TEST_CASE("accept-gap lets the agent's queue drain past taps lost by a server restore", "[admin]") {
  AgentHome h;
  auto none = h.Run({"agent", "accept-gap", "--agent", "hikari-1-pc"});
  CHECK(none.code != 0);
  CHECK(Has(none.err, "has no gap"));
  const store::Agent a = h.Agent();
  h.Write([&](store::WriteTxn& txn) -> Status {
    for (std::uint64_t seq : {1, 2, 6, 7}) {
      store::TapRecord t;
      t.agent = a.id;
      t.seq = seq;
      t.card = fakes::Token('1');
      t.facility = a.facility;
      t.reader = "entrance";
      t.tapped_at = t.corrected_at = t.received_at = SystemClock().Now();
      ANSHIN_RETURN_IF_ERROR(txn.attendance().InsertTap(t));
    }
    return txn.agents().SetAcked(a.id, 2, wire::SeqGap{3, 5});
  });
  auto r = h.Run({"agent", "accept-gap", "--agent", "hikari-1-pc"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out == "agent hikari-1-pc: seqs 3..5 accepted as lost; acknowledged through 7\n");
  CHECK(h.Agent().acked_through == 7);
  CHECK_FALSE(h.Agent().gap);
  const store::AuditEntry e = h.Audit().back();
  CHECK(e.action == "agent.accept_gap");
  CHECK(e.detail == "agent=hikari-1-pc from=3 to=5 acked_through=7");
}

}  // namespace
}  // namespace anshin::admin::testing
