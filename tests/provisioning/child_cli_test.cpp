// anshin-admin child commands against a real home: what the flags record.
#include "tests/provisioning/cli_harness.hpp"

#include "services/children.hpp"

namespace anshin::admin::testing {
namespace {

// "child 12 added (…)" -> 12.
ChildId IdOf(const CliResult& r) {
  REQUIRE(r.out.rfind("child ", 0) == 0);
  return ChildId{std::stoll(r.out.substr(6))};
}

TEST_CASE("child add records the child number, kana, grade and days", "[admin]") {
  TestHome h;
  auto r =
      h.Run({"child", "add", "--facility", "hikari-1", "--name", "練馬 さくら", "--number",
             "2026-0001", "--kana", "ねりま さくら", "--grade", "2", "--attends", "mon,tue,thu"});
  REQUIRE(r.code == 0);
  ChildId id = IdOf(r);
  CHECK(r.out == "child " + id.ToString() + " added (練馬 さくら, hikari-1)\n");
  auto bare_id =
      h.Run({"child", "add", "--facility", "hikari-1", "--name", "練馬 あおい", "--format", "id"});
  CHECK(bare_id.out == std::to_string(id.value + 1) + "\n");
  store::Child c = h.Read([&](store::ReadTxn& t) { return t.children().Get(id); });
  CHECK(c.number == std::optional<std::string>("2026-0001"));
  CHECK(c.kana == "ねりま さくら");
  CHECK(c.grade == std::optional<int>(2));
  CHECK(services::FormatWeekdays(c.attend_days) == "mon,tue,thu");

  // Without the flags nothing is recorded.
  auto bare = h.Run({"child", "add", "--facility", "hikari-1", "--name", "練馬 はると"});
  REQUIRE(bare.code == 0);
  store::Child b = h.Read([&](store::ReadTxn& t) { return t.children().Get(IdOf(bare)); });
  CHECK_FALSE(b.number);
  CHECK(b.kana.empty());
  CHECK_FALSE(b.grade);
  CHECK(b.attend_days.empty());
}

TEST_CASE("child add refuses a used number, a bad grade and unknown days in words", "[admin]") {
  TestHome h;
  auto first = h.Run(
      {"child", "add", "--facility", "hikari-1", "--name", "練馬 さくら", "--number", "2026-0001"});
  REQUIRE(first.code == 0);
  auto again = h.Run(
      {"child", "add", "--facility", "hikari-1", "--name", "練馬 はると", "--number", "2026-0001"});
  CHECK(again.code != 0);
  CHECK(again.err.find("child number already used by child " + std::to_string(IdOf(first).value)) !=
        std::string::npos);
  CHECK(again.err.find("UNIQUE") == std::string::npos);  // never the database's text

  auto grade =
      h.Run({"child", "add", "--facility", "hikari-1", "--name", "練馬 はると", "--grade", "7"});
  CHECK(grade.code != 0);
  CHECK(grade.err.find("grade: must be 1 to 6") != std::string::npos);
  auto days = h.Run(
      {"child", "add", "--facility", "hikari-1", "--name", "練馬 はると", "--attends", "mon,xyz"});
  CHECK(days.code != 0);
  CHECK(days.err.find("attends: unknown day \"xyz\"") != std::string::npos);
  auto kana = h.Run(
      {"child", "add", "--facility", "hikari-1", "--name", "練馬 はると", "--kana", "Haruto"});
  CHECK(kana.code != 0);
  CHECK(kana.err.find("kana: ") != std::string::npos);
  // Only the first child exists.
  CHECK(h.Read([](store::ReadTxn& t) { return t.children().FindByNumber("2026-0001"); }) ==
        std::optional<ChildId>(IdOf(first)));
  auto second = h.Read([&](store::ReadTxn& t) -> Result<bool> {
    return t.children().Get(ChildId{IdOf(first).value + 1}).ok();
  });
  CHECK_FALSE(second);
}

}  // namespace
}  // namespace anshin::admin::testing
