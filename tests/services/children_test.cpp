// Children (services/children): the application fields' rules where they enter, child numbers
// unique across the deployment, updates that keep the lifecycle, and their audit rows.
#include <catch2/catch.hpp>

#include "services/children.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "tests/fakes/seed.hpp"
#include "tests/fakes/temp_dir.hpp"

namespace anshin::services {
namespace {

using store::Actor;

TimePoint T(const char* rfc3339) { return ParseRfc3339(rfc3339).value(); }

struct Fixture {
  fakes::TempDir dir{"children-test"};
  std::unique_ptr<store::Store> store = [this] {
    store::SqliteOptions o;
    o.path = dir / "anshin.db";
    return std::unique_ptr<store::Store>(store::SqliteStore::Open(o).value());
  }();
  fakes::Seed seed{*store, Actor{"operator-1", T("2026-11-26T09:00:00+09:00")}};
  FacilityId facility = seed.Facility("hikari1", "光が丘第一学童クラブ");

  store::Child Sakura() const {
    store::Child c;
    c.name = "練馬 さくら";
    c.facility = facility;
    c.number = "2026-0001";
    c.kana = "ねりま さくら";
    c.grade = 1;
    c.attend_days = ParseWeekdays("mon,wed,fri").value();
    return c;
  }
  std::vector<store::AuditEntry> Audit() {
    return store::InRead(*store, [](store::ReadTxn& t) { return t.audit().List(); }).value();
  }
};

TEST_CASE("weekday sets parse from and format to day names", "[services]") {
  store::Weekdays d = ParseWeekdays("fri,mon,sun").value();
  CHECK(d.Has(0));
  CHECK(d.Has(1));
  CHECK(d.Has(5));
  CHECK_FALSE(d.Has(2));
  CHECK(FormatWeekdays(d) == "mon,fri,sun");
  CHECK(ParseWeekdays("").value().empty());
  CHECK(FormatWeekdays(store::Weekdays{}).empty());
  Status bad = ParseWeekdays("mon,funday").status();
  CHECK(bad.code() == Status::Code::kInvalidArgument);
  CHECK(bad.message().find("funday") != std::string::npos);
  CHECK_FALSE(ParseWeekdays("mon,").ok());
  CHECK_FALSE(ParseWeekdays("Mon").ok());
}

TEST_CASE("a child's number, kana and grade are validated where they enter", "[services]") {
  CHECK(CheckChildNumber("2026-0001").ok());
  CHECK(CheckChildNumber("N_12ab").ok());
  for (const char* bad : {"", "12 34", "１２３", "12\n", "a;b", "x'--"}) {
    INFO(bad);
    Status s = CheckChildNumber(bad);
    CHECK(s.code() == Status::Code::kInvalidArgument);
    CHECK(s.message().rfind("child number: ", 0) == 0);
  }
  CHECK_FALSE(CheckChildNumber(std::string(kMaxChildNumberChars + 1, '1')).ok());
  for (const char* good : {"", "ねりま さくら", "ミュラー・ハナ", "ﾈﾘﾏ ｻｸﾗ", "ねりま　さくら"}) {
    INFO(good);
    CHECK(CheckKana(good).ok());
  }
  for (const char* bad : {"練馬 さくら", "nerima", "ねりま\tさくら", "   ", "\xe3\x81"}) {
    INFO(bad);
    Status s = CheckKana(bad);
    CHECK(s.code() == Status::Code::kInvalidArgument);
    CHECK(s.message().rfind("kana: ", 0) == 0);
  }
  CHECK(CheckGrade(1).ok());
  CHECK(CheckGrade(6).ok());
  CHECK_FALSE(CheckGrade(0).ok());
  CHECK_FALSE(CheckGrade(7).ok());

  Fixture fx;
  store::Child c = fx.Sakura();
  c.grade = 9;
  Status s = fx.seed.children.Add(c, fx.seed.who).status();
  CHECK(s.code() == Status::Code::kInvalidArgument);
  CHECK(s.message().rfind("grade: ", 0) == 0);
  c = fx.Sakura();
  c.kana = "Sakura";
  CHECK(fx.seed.children.Add(c, fx.seed.who).status().code() == Status::Code::kInvalidArgument);
  CHECK(fx.Audit().size() == 1);  // the facility's only: nothing was added
}

TEST_CASE("a child number is used by one child only", "[services]") {
  Fixture fx;
  ChildId first = fx.seed.children.Add(fx.Sakura(), fx.seed.who).value();
  store::Child again = fx.Sakura();
  again.name = "練馬 はると";
  Status s = fx.seed.children.Add(again, fx.seed.who).status();
  CHECK(s.code() == Status::Code::kAlreadyExists);
  CHECK(s.message() == "child number already used by child " + first.ToString());
  again.number = "2026-0002";
  ChildId second = fx.seed.children.Add(again, fx.seed.who).value();
  store::Child steal = fx.seed.children.Get(second).value();
  steal.number = "2026-0001";
  s = fx.seed.children.Update(steal, fx.seed.who);
  CHECK(s.code() == Status::Code::kAlreadyExists);
  CHECK(fx.seed.children.Get(second).value().number == std::optional<std::string>("2026-0002"));
  // Children without a number are many.
  store::Child none = fx.Sakura();
  none.number.reset();
  CHECK(fx.seed.children.Add(none, fx.seed.who).ok());
  CHECK(fx.seed.children.Add(none, fx.seed.who).ok());
}

TEST_CASE("updating a child changes its record, keeps its lifecycle and is audited", "[services]") {
  Fixture fx;
  ChildId id = fx.seed.children.Add(fx.Sakura(), fx.seed.who).value();
  store::Child c = fx.seed.children.Get(id).value();
  CHECK(c.number == std::optional<std::string>("2026-0001"));
  CHECK(c.kana == "ねりま さくら");
  CHECK(c.grade == std::optional<int>(1));
  CHECK(FormatWeekdays(c.attend_days) == "mon,wed,fri");

  c.grade = 2;
  c.kana = "ねりま さくらこ";
  c.status = store::ChildStatus::kWithdrawn;              // not the update's business
  REQUIRE(fx.seed.children.Update(c, fx.seed.who).ok());  // same number: its own
  store::Child back = fx.seed.children.Get(id).value();
  CHECK(back.grade == std::optional<int>(2));
  CHECK(back.kana == "ねりま さくらこ");
  CHECK(back.status == store::ChildStatus::kEnrolled);
  auto audit = fx.Audit();
  REQUIRE(audit.size() == 3);
  CHECK(audit.back().action == "child.update");
  CHECK(audit.back().detail == "child=" + id.ToString() + " changed=kana,grade");
  CHECK(audit.back().detail.find("さくら") == std::string::npos);

  store::Child bad = back;
  bad.name = "練馬\nさくら";
  CHECK(fx.seed.children.Update(bad, fx.seed.who).code() == Status::Code::kInvalidArgument);
  bad = back;
  bad.facility = FacilityId{999};
  CHECK(fx.seed.children.Update(bad, fx.seed.who).code() == Status::Code::kNotFound);
  bad = back;
  bad.id = ChildId{999};
  CHECK(fx.seed.children.Update(bad, fx.seed.who).code() == Status::Code::kNotFound);
  CHECK(fx.Audit().size() == 3);
}

}  // namespace
}  // namespace anshin::services
