// The store contract for staff accounts and sessions (store/store.hpp staff()): what every
// Store implementation must do, run once per factory in store_factories.hpp.
#include <catch2/catch.hpp>

#include "tests/store/store_factories.hpp"

namespace anshin::store::contract {
namespace {

TimePoint T(const char* rfc3339) { return ParseRfc3339(rfc3339).value(); }
const TimePoint kT0 = T("2026-12-01T09:00:00+09:00");

template <typename Factory>
struct StaffWorld {
  Factory factory;
  std::unique_ptr<Store> store = factory.Open();
  FacilityId facility;

  StaffWorld() {
    auto txn = store->BeginWrite().value();
    Facility f;
    f.code = "hikari-1";
    f.name = "光が丘第一学童クラブ";
    facility = txn->facilities().Insert(f, kT0).value();
    REQUIRE(txn->Commit().ok());
  }

  Result<StaffId> Add(const std::string& name, StaffRole role, std::optional<FacilityId> f) {
    auto txn = store->BeginWrite().value();
    Staff s;
    s.name = name;
    s.role = role;
    s.facility = f;
    s.email = name + "@example.jp";
    s.password_hash = "$argon2id$hash-of-" + name;
    s.created_at = kT0;
    s.password_changed_at = kT0;
    Result<StaffId> id = txn->staff().Insert(s);
    if (id.ok()) REQUIRE(txn->Commit().ok());
    return id;
  }
};

TEMPLATE_TEST_CASE("contract: staff accounts round-trip and are listed by name", "[contract]",
                   ANSHIN_STORE_FACTORIES) {
  StaffWorld<TestType> w;
  StaffId tanaka = w.Add("tanaka", StaffRole::kFacility, w.facility).value();
  StaffId abe = w.Add("abe", StaffRole::kCallCenter, std::nullopt).value();

  auto txn = w.store->BeginRead().value();
  Staff s = txn->staff().Get(tanaka).value();
  CHECK(s.name == "tanaka");
  CHECK(s.role == StaffRole::kFacility);
  REQUIRE(s.facility.has_value());
  CHECK(*s.facility == w.facility);
  CHECK(s.email == "tanaka@example.jp");
  CHECK(s.password_hash == "$argon2id$hash-of-tanaka");
  CHECK(s.status == StaffStatus::kActive);
  CHECK(s.failed_logins == 0);
  CHECK_FALSE(s.locked_until.has_value());
  CHECK(s.created_at == kT0);

  auto found = txn->staff().FindByName("abe").value();
  REQUIRE(found.has_value());
  CHECK(found->id == abe);
  CHECK_FALSE(found->facility.has_value());
  CHECK_FALSE(txn->staff().FindByName("nobody").value().has_value());
  CHECK(txn->staff().Get(StaffId{999}).status().code() == Status::Code::kNotFound);

  std::vector<Staff> all = txn->staff().List().value();
  REQUIRE(all.size() == 2);
  CHECK(all[0].name == "abe");
  CHECK(all[1].name == "tanaka");
}

TEMPLATE_TEST_CASE("contract: a staff name is unique and the facility binding is checked",
                   "[contract]", ANSHIN_STORE_FACTORIES) {
  StaffWorld<TestType> w;
  REQUIRE(w.Add("abe", StaffRole::kAdmin, std::nullopt).ok());
  CHECK(w.Add("abe", StaffRole::kAuditor, std::nullopt).status().code() ==
        Status::Code::kAlreadyExists);
  // The facility role needs a facility and the others must not have one.
  CHECK_FALSE(w.Add("sato", StaffRole::kFacility, std::nullopt).ok());
  CHECK_FALSE(w.Add("ito", StaffRole::kOperator, w.facility).ok());
}

TEMPLATE_TEST_CASE("contract: staff password, status and login state are written", "[contract]",
                   ANSHIN_STORE_FACTORIES) {
  StaffWorld<TestType> w;
  StaffId id = w.Add("abe", StaffRole::kCallCenter, std::nullopt).value();
  const TimePoint later = kT0 + std::chrono::hours(1);
  {
    auto txn = w.store->BeginWrite().value();
    REQUIRE(txn->staff().SetPassword(id, "$argon2id$new", later).ok());
    REQUIRE(txn->staff().SetStatus(id, StaffStatus::kDisabled).ok());
    REQUIRE(txn->staff().SetLoginState(id, 5, later).ok());
    CHECK(txn->staff().SetStatus(StaffId{999}, StaffStatus::kActive).code() ==
          Status::Code::kNotFound);
    REQUIRE(txn->Commit().ok());
  }
  {
    auto txn = w.store->BeginRead().value();
    Staff s = txn->staff().Get(id).value();
    CHECK(s.password_hash == "$argon2id$new");
    CHECK(s.password_changed_at == later);
    CHECK(s.status == StaffStatus::kDisabled);
    CHECK(s.failed_logins == 5);
    REQUIRE(s.locked_until.has_value());
    CHECK(*s.locked_until == later);
  }
  {
    auto txn = w.store->BeginWrite().value();
    REQUIRE(txn->staff().SetLoginState(id, 0, std::nullopt).ok());
    REQUIRE(txn->Commit().ok());
  }
  auto txn = w.store->BeginRead().value();
  Staff s = txn->staff().Get(id).value();
  CHECK(s.failed_logins == 0);
  CHECK_FALSE(s.locked_until.has_value());
}

TEMPLATE_TEST_CASE("contract: staff sessions are found by hash, touched and deleted", "[contract]",
                   ANSHIN_STORE_FACTORIES) {
  StaffWorld<TestType> w;
  StaffId abe = w.Add("abe", StaffRole::kCallCenter, std::nullopt).value();
  StaffId ito = w.Add("ito", StaffRole::kOperator, std::nullopt).value();
  {
    auto txn = w.store->BeginWrite().value();
    for (const char* h : {"h1", "h2"}) {
      REQUIRE(txn->staff().InsertSession({h, abe, std::string("csrf-") + h, kT0, kT0}).ok());
    }
    REQUIRE(txn->staff().InsertSession({"h3", ito, "csrf-h3", kT0, kT0}).ok());
    CHECK_FALSE(txn->staff().InsertSession({"h1", ito, "again", kT0, kT0}).ok());
    REQUIRE(txn->staff().TouchSession("h1", kT0 + std::chrono::minutes(5)).ok());
    CHECK(txn->staff().TouchSession("nope", kT0).code() == Status::Code::kNotFound);
    REQUIRE(txn->Commit().ok());
  }
  {
    auto txn = w.store->BeginRead().value();
    auto s = txn->staff().FindSession("h1").value();
    REQUIRE(s.has_value());
    CHECK(s->staff == abe);
    CHECK(s->csrf_token == "csrf-h1");
    CHECK(s->created_at == kT0);
    CHECK(s->last_seen_at == kT0 + std::chrono::minutes(5));
    CHECK_FALSE(txn->staff().FindSession("nope").value().has_value());
  }
  {
    auto txn = w.store->BeginWrite().value();
    REQUIRE(txn->staff().DeleteSession("h3").ok());
    REQUIRE(txn->staff().DeleteSession("h3").ok());  // already gone: nothing to do
    CHECK(txn->staff().DeleteSessionsOf(abe).value() == 2);
    REQUIRE(txn->Commit().ok());
  }
  auto txn = w.store->BeginRead().value();
  for (const char* h : {"h1", "h2", "h3"}) CHECK_FALSE(txn->staff().FindSession(h).value());
}

}  // namespace
}  // namespace anshin::store::contract
