// Staff accounts (services/staff.hpp): passwords, lock-out, sessions with their expiry on a
// fake clock, CSRF tokens and the audit rows, against a real SQLite store in a temp dir.
#include <catch2/catch.hpp>

#include "services/audit_log.hpp"
#include "services/staff.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "tests/fakes/fake_clock.hpp"
#include "tests/fakes/seed.hpp"
#include "tests/fakes/temp_dir.hpp"

namespace anshin::services {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using store::Actor;

TimePoint T(const char* rfc3339) { return ParseRfc3339(rfc3339).value(); }
const TimePoint kT0 = T("2026-12-01T09:00:00+09:00");
constexpr const char* kPassword = "correct horse battery";

struct Fixture {
  fakes::TempDir dir{"staff-test"};
  std::unique_ptr<store::Store> store = [this] {
    store::SqliteOptions o;
    o.path = dir / "anshin.db";
    return std::unique_ptr<store::Store>(store::SqliteStore::Open(o).value());
  }();
  fakes::Seed seed{*store, Actor{"operator-1", kT0}};
  FacilityId facility = seed.Facility("hikari1", "光が丘第一学童クラブ");
  fakes::FakeClock clock{kT0};
  StaffAccounts staff{*store, clock};
  Actor admin{"operator-1", kT0};

  void AddAbe() {
    REQUIRE(
        staff.Add({"abe", store::StaffRole::kCallCenter, "", "abe@example.jp"}, kPassword, admin)
            .ok());
  }
  std::vector<store::AuditEntry> Audit() {
    return store::InRead(*store, [](store::ReadTxn& t) { return t.audit().List(); }).value();
  }
  store::Staff Get(const char* name) {
    return store::InRead(*store, [&](store::ReadTxn& t) { return t.staff().FindByName(name); })
        .value()
        .value();
  }
};

TEST_CASE("staff: accounts are validated and stored with an argon2id hash", "[staff]") {
  Fixture fx;
  fx.AddAbe();
  store::Staff abe = fx.Get("abe");
  CHECK(abe.password_hash.rfind("$argon2id$", 0) == 0);
  CHECK(abe.password_hash.find(kPassword) == std::string::npos);
  CHECK(PasswordMatches(abe.password_hash, kPassword));
  CHECK_FALSE(PasswordMatches(abe.password_hash, "correct horse battery!"));

  using store::StaffRole;
  CHECK(
      fx.staff.Add({"short", StaffRole::kAdmin, "", ""}, "elevenchars", fx.admin).status().code() ==
      Status::Code::kInvalidArgument);
  // Twelve characters, counted as characters not bytes.
  CHECK(
      fx.staff.Add({"kana", StaffRole::kAdmin, "", ""}, "あいうえおかきくけこさし", fx.admin).ok());
  CHECK(fx.staff.Add({"abe", StaffRole::kAdmin, "", ""}, kPassword, fx.admin).status().code() ==
        Status::Code::kAlreadyExists);
  CHECK(
      fx.staff.Add({"bad name", StaffRole::kAdmin, "", ""}, kPassword, fx.admin).status().code() ==
      Status::Code::kInvalidArgument);
  CHECK_FALSE(fx.staff.Add({"sato", StaffRole::kFacility, "", ""}, kPassword, fx.admin).ok());
  CHECK_FALSE(fx.staff.Add({"ito", StaffRole::kOperator, "hikari1", ""}, kPassword, fx.admin).ok());
  CHECK(fx.staff.Add({"sato", StaffRole::kFacility, "nowhere", ""}, kPassword, fx.admin)
            .status()
            .code() == Status::Code::kNotFound);
  CHECK_FALSE(
      fx.staff.Add({"mail", StaffRole::kAdmin, "", "not an address"}, kPassword, fx.admin).ok());
  REQUIRE(fx.staff.Add({"sato", StaffRole::kFacility, "hikari1", ""}, kPassword, fx.admin).ok());
  CHECK(fx.Get("sato").facility == fx.facility);

  std::vector<store::AuditEntry> audit = fx.Audit();
  REQUIRE(audit.back().action == "staff.add");
  CHECK(audit.back().actor == "operator-1");
  for (const auto& e : audit) CHECK(e.detail.find(kPassword) == std::string::npos);
}

TEST_CASE("staff: login opens a session whose cookie is stored only as a hash", "[staff]") {
  Fixture fx;
  fx.AddAbe();
  StaffLogin login = fx.staff.Login("abe", kPassword).value();
  CHECK(login.cookie_value.size() == 64);
  CHECK(login.session.id_hash == SessionIdHash(login.cookie_value));
  CHECK(login.session.id_hash != login.cookie_value);
  CHECK(login.session.csrf_token.size() == 64);
  auto stored = store::InRead(*fx.store, [&](store::ReadTxn& t) {
                  return t.staff().FindSession(login.cookie_value);
                }).value();
  CHECK_FALSE(stored.has_value());  // the raw value finds nothing

  StaffContext ctx = fx.staff.Authenticate(login.cookie_value).value();
  CHECK(ctx.staff.name == "abe");
  CHECK(ctx.session.csrf_token == login.session.csrf_token);
  CHECK(fx.staff.Authenticate("").status().code() == Status::Code::kUnauthenticated);
  CHECK(fx.staff.Authenticate(NewSecretToken()).status().code() == Status::Code::kUnauthenticated);

  REQUIRE(fx.staff.Logout(login.cookie_value).ok());
  CHECK(fx.staff.Authenticate(login.cookie_value).status().code() ==
        Status::Code::kUnauthenticated);
  std::vector<store::AuditEntry> audit = fx.Audit();
  CHECK(audit[audit.size() - 2].action == "staff.login");
  CHECK(audit.back().action == "staff.logout");
  CHECK(audit.back().actor == "staff:abe");
  REQUIRE(VerifyAuditChain(*fx.store->BeginRead().value()).ok());
}

TEST_CASE("staff: sessions end after 30 idle minutes and 12 hours in all", "[staff]") {
  Fixture fx;
  fx.AddAbe();
  SECTION("idle") {
    StaffLogin login = fx.staff.Login("abe", kPassword).value();
    fx.clock.Advance(minutes(29));
    REQUIRE(fx.staff.Authenticate(login.cookie_value).ok());  // touches it
    fx.clock.Advance(minutes(29));
    REQUIRE(fx.staff.Authenticate(login.cookie_value).ok());
    fx.clock.Advance(minutes(30));
    CHECK(fx.staff.Authenticate(login.cookie_value).status().code() ==
          Status::Code::kUnauthenticated);
    // The expired session is gone, not only refused.
    fx.clock.Set(kT0);
    CHECK_FALSE(fx.staff.Authenticate(login.cookie_value).ok());
  }
  SECTION("absolute") {
    StaffLogin login = fx.staff.Login("abe", kPassword).value();
    for (int i = 0; i < 24; ++i) {
      fx.clock.Advance(minutes(25));
      INFO("after " << (i + 1) * 25 << " minutes");
      REQUIRE(fx.staff.Authenticate(login.cookie_value).ok());
    }
    fx.clock.Set(kT0 + hours(12));
    CHECK(fx.staff.Authenticate(login.cookie_value).status().code() ==
          Status::Code::kUnauthenticated);
  }
}

TEST_CASE("staff: five failures lock the account for 15 minutes", "[staff]") {
  Fixture fx;
  fx.AddAbe();
  for (int i = 0; i < 4; ++i) {
    CHECK(fx.staff.Login("abe", "wrong password!").status().code() ==
          Status::Code::kUnauthenticated);
  }
  CHECK(fx.Get("abe").failed_logins == 4);
  // A success resets the count.
  REQUIRE(fx.staff.Login("abe", kPassword).ok());
  CHECK(fx.Get("abe").failed_logins == 0);
  for (int i = 0; i < 5; ++i) CHECK_FALSE(fx.staff.Login("abe", "wrong password!").ok());
  REQUIRE(fx.Get("abe").locked_until.has_value());
  CHECK(*fx.Get("abe").locked_until == kT0 + minutes(15));
  // Even the right password is refused while locked.
  CHECK(fx.staff.Login("abe", kPassword).status().code() == Status::Code::kPermissionDenied);
  fx.clock.Advance(minutes(14));
  CHECK_FALSE(fx.staff.Login("abe", kPassword).ok());
  fx.clock.Advance(minutes(1));
  CHECK(fx.staff.Login("abe", kPassword).ok());

  std::vector<store::AuditEntry> audit = fx.Audit();
  int failed = 0, locked = 0;
  for (const auto& e : audit) {
    failed += e.action == "staff.login_failed";
    locked += e.action == "staff.locked";
    CHECK(e.detail.find("wrong password") == std::string::npos);
  }
  CHECK(failed == 4 + 5 + 2);
  CHECK(locked == 1);
}

TEST_CASE("staff: unknown names, disabled accounts and password changes", "[staff]") {
  Fixture fx;
  fx.AddAbe();
  CHECK(fx.staff.Login("nobody", kPassword).status().code() == Status::Code::kUnauthenticated);
  CHECK(fx.Audit().back().detail == "account=unknown");

  StaffLogin login = fx.staff.Login("abe", kPassword).value();
  REQUIRE(fx.staff.Disable("abe", fx.admin).ok());
  CHECK_FALSE(fx.staff.Authenticate(login.cookie_value).ok());  // its sessions ended
  CHECK(fx.staff.Login("abe", kPassword).status().code() == Status::Code::kUnauthenticated);
  REQUIRE(fx.staff.Enable("abe", fx.admin).ok());

  login = fx.staff.Login("abe", kPassword).value();
  REQUIRE(fx.staff.SetPassword("abe", "a new long passphrase", fx.admin).ok());
  CHECK_FALSE(fx.staff.Authenticate(login.cookie_value).ok());
  CHECK_FALSE(fx.staff.Login("abe", kPassword).ok());
  CHECK(fx.staff.Login("abe", "a new long passphrase").ok());
  CHECK(fx.staff.SetPassword("abe", "short", fx.admin).code() == Status::Code::kInvalidArgument);
  CHECK(fx.staff.Disable("nobody", fx.admin).code() == Status::Code::kNotFound);
}

TEST_CASE("staff: CSRF tokens compare in constant time and only when equal", "[staff]") {
  const std::string a = NewSecretToken();
  const std::string b = NewSecretToken();
  CHECK(a != b);
  CHECK(SameToken(a, a));
  CHECK_FALSE(SameToken(a, b));
  CHECK_FALSE(SameToken(a, a.substr(0, 63)));
  CHECK_FALSE(SameToken("", ""));  // no token is never a match
}

}  // namespace
}  // namespace anshin::services
