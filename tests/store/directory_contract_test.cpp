// The store contract for finding and changing the registry's records (store/store.hpp): the
// child's application fields, child numbers, updates. Runs once per factory in
// store_factories.hpp; every test's name starts with "contract:".
#include <catch2/catch.hpp>

#include "tests/store/store_factories.hpp"

namespace anshin::store::contract {
namespace {

TimePoint T(const char* rfc3339) { return ParseRfc3339(rfc3339).value(); }
const TimePoint kT0 = T("2026-11-26T09:00:00+09:00");

template <typename Factory>
struct Registry {
  Factory factory;
  std::unique_ptr<Store> store = factory.Open();
  FacilityId facility;

  Registry() {
    auto txn = store->BeginWrite().value();
    Facility f;
    f.code = "hikari-1";
    f.name = "光が丘第一学童クラブ";
    facility = txn->facilities().Insert(f, kT0).value();
    REQUIRE(txn->Commit().ok());
  }

  Child Sakura() const {
    Child c;
    c.name = "練馬 さくら";
    c.facility = facility;
    c.number = "N-0001";
    c.kana = "ねりま さくら";
    c.grade = 2;
    c.attend_days.Add(1);
    c.attend_days.Add(3);
    return c;
  }
};

TEMPLATE_TEST_CASE("contract: a child's number, kana, grade and days are kept", "[contract]",
                   ANSHIN_STORE_FACTORIES) {
  Registry<TestType> r;
  auto txn = r.store->BeginWrite().value();
  ChildId id = txn->children().Insert(r.Sakura(), kT0).value();
  Child bare;
  bare.name = "練馬 はると";
  bare.facility = r.facility;
  ChildId bare_id = txn->children().Insert(bare, kT0).value();
  REQUIRE(txn->Commit().ok());

  auto read = r.store->BeginRead().value();
  Child c = read->children().Get(id).value();
  CHECK(c.number == std::optional<std::string>("N-0001"));
  CHECK(c.kana == "ねりま さくら");
  CHECK(c.grade == std::optional<int>(2));
  CHECK(c.attend_days.Has(1));
  CHECK(c.attend_days.Has(3));
  CHECK_FALSE(c.attend_days.Has(2));
  CHECK(c.attend_days.bits == 0b0001010);
  Child b = read->children().Get(bare_id).value();
  CHECK_FALSE(b.number);
  CHECK(b.kana.empty());
  CHECK_FALSE(b.grade);
  CHECK(b.attend_days.empty());

  CHECK(read->children().FindByNumber("N-0001").value() == std::optional<ChildId>(id));
  CHECK_FALSE(read->children().FindByNumber("N-0002").value());
  CHECK_FALSE(read->children().FindByNumber("").value());
}

TEMPLATE_TEST_CASE("contract: a child number is unique, children without one are many",
                   "[contract]", ANSHIN_STORE_FACTORIES) {
  Registry<TestType> r;
  auto txn = r.store->BeginWrite().value();
  REQUIRE(txn->children().Insert(r.Sakura(), kT0).ok());
  CHECK(txn->children().Insert(r.Sakura(), kT0).status().code() == Status::Code::kAlreadyExists);
  Child none;
  none.name = "x";
  none.facility = r.facility;
  CHECK(txn->children().Insert(none, kT0).ok());
  CHECK(txn->children().Insert(none, kT0).ok());
  Child bad_grade = none;
  bad_grade.grade = 7;
  CHECK(txn->children().Insert(bad_grade, kT0).status().code() == Status::Code::kInvalidArgument);
}

TEMPLATE_TEST_CASE("contract: a child's row is updated whole", "[contract]",
                   ANSHIN_STORE_FACTORIES) {
  Registry<TestType> r;
  ChildId id, other;
  {
    auto txn = r.store->BeginWrite().value();
    id = txn->children().Insert(r.Sakura(), kT0).value();
    Child o;
    o.name = "練馬 はると";
    o.facility = r.facility;
    o.number = "N-0002";
    other = txn->children().Insert(o, kT0).value();
    REQUIRE(txn->Commit().ok());
  }
  auto txn = r.store->BeginWrite().value();
  Child c = txn->children().Get(id).value();
  c.name = "練馬 さくらこ";
  c.kana = "ねりま さくらこ";
  c.grade = 3;
  c.number.reset();
  c.attend_days = Weekdays{};
  c.schedule.expected_departure[2] = LocalTime::HM(18, 0);
  c.status = ChildStatus::kWithdrawn;
  c.withdrawn_at = kT0;
  REQUIRE(txn->children().Update(c).ok());
  Child back = txn->children().Get(id).value();
  CHECK(back.name == "練馬 さくらこ");
  CHECK(back.kana == "ねりま さくらこ");
  CHECK(back.grade == std::optional<int>(3));
  CHECK_FALSE(back.number);
  CHECK(back.attend_days.empty());
  CHECK(back.schedule.expected_departure[2] == LocalTime::HM(18, 0));
  CHECK(back.status == ChildStatus::kWithdrawn);
  CHECK(back.withdrawn_at == std::optional<TimePoint>(kT0));
  CHECK_FALSE(txn->children().FindByNumber("N-0001").value());

  // Another child's number is refused; a missing child is NotFound.
  c.number = "N-0002";
  CHECK(txn->children().Update(c).code() == Status::Code::kAlreadyExists);
  Child missing = back;
  missing.id = ChildId{999};
  CHECK(txn->children().Update(missing).code() == Status::Code::kNotFound);
  CHECK(txn->children().Get(other).value().number == std::optional<std::string>("N-0002"));
}

}  // namespace
}  // namespace anshin::store::contract
