// The stored form of ChildDay (common/day_codec.hpp).
#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "common/day_codec.hpp"

namespace anshin {
namespace {

const LocalDate kDay{2026, 11, 26};

TimePoint Ms(std::int64_t ms) { return FromUnixMillis(ms); }

ChildDay SampleDay() {
  ChildDay day;
  day.date = kDay;
  Visit closed;
  closed.arrival = Ms(1795672920000);
  closed.departure = Ms(1795683600000);
  Visit inferred;
  inferred.departure = Ms(1795690800000);
  inferred.inferred = true;
  Visit corrected;
  corrected.arrival = Ms(1795691000000);
  corrected.departure = Ms(1795692000000);
  corrected.inferred = true;
  corrected.corrected = true;
  Visit unknown;
  unknown.arrival = Ms(1795693000000);
  unknown.departure_unknown = true;
  Visit open;
  open.arrival = Ms(1795694000000);
  day.visits = {closed, inferred, corrected, unknown, open};
  day.accepted_taps = {Ms(1795672920000), Ms(1795683600000), Ms(1795690800000)};
  day.closing_alerted = true;
  return day;
}

TEST_CASE("the day state text is exactly the stored format", "[day_codec]") {
  // These strings are what existing databases hold (written by the store's DayToJson).
  ChildDay empty;
  empty.date = kDay;
  CHECK(EncodeChildDay(empty) == R"({"v":[],"t":[],"c":0})");
  CHECK(EncodeChildDay(SampleDay()) ==
        R"({"v":[[1795672920000,1795683600000,0],[null,1795690800000,1],)"
        R"([1795691000000,1795692000000,3],[1795693000000,null,4],[1795694000000,null,0]],)"
        R"("t":[1795672920000,1795683600000,1795690800000],"c":1})");
}

TEST_CASE("day states round-trip", "[day_codec]") {
  ChildDay day = SampleDay();
  auto back = DecodeChildDay(kDay, EncodeChildDay(day));
  REQUIRE(back.ok());
  CHECK(*back == day);

  ChildDay empty;
  empty.date = kDay;
  CHECK(DecodeChildDay(kDay, EncodeChildDay(empty)).value() == empty);

  // Negative instants (before 1970) and the date comes from the caller.
  ChildDay old;
  old.date = LocalDate{1969, 12, 31};
  Visit v;
  v.arrival = Ms(-86400000);
  v.departure = Ms(-1);
  old.visits = {v};
  old.accepted_taps = {Ms(-86400000), Ms(-1)};
  CHECK(DecodeChildDay(old.date, EncodeChildDay(old)).value() == old);

  std::mt19937_64 rng(9);
  for (int round = 0; round < 200; ++round) {
    ChildDay d;
    d.date = kDay;
    int visits = int(rng() % 6);
    for (int i = 0; i < visits; ++i) {
      Visit x;
      if (rng() % 3) x.arrival = Ms(std::int64_t(rng() % 4000000000000ULL) - 1000000000000LL);
      if (rng() % 3) x.departure = Ms(std::int64_t(rng() % 4000000000000ULL));
      x.inferred = rng() % 2;
      x.corrected = rng() % 2;
      x.departure_unknown = rng() % 2;
      d.visits.push_back(x);
    }
    int taps = int(rng() % 8);
    for (int i = 0; i < taps; ++i) d.accepted_taps.push_back(Ms(std::int64_t(rng() >> 20)));
    d.closing_alerted = rng() % 2;
    INFO(EncodeChildDay(d));
    CHECK(DecodeChildDay(kDay, EncodeChildDay(d)).value() == d);
  }
}

TEST_CASE("the same document in another JSON spelling reads back", "[day_codec]") {
  ChildDay want;
  want.date = kDay;
  Visit v;
  v.arrival = Ms(1795672920000);
  v.inferred = true;
  want.visits = {v};
  want.accepted_taps = {Ms(1795672920000)};
  for (const char* text : {
           R"({ "v" : [ [1795672920000, null, 1] ], "t" : [1795672920000], "c" : 0 })",
           R"({"c":0,"t":[1795672920000],"v":[[1795672920000,null,1]]})",
           "{\"v\":[[1795672920000,null,1]],\n\"t\":[1795672920000],\"c\":0}\n",
           R"({"v":[[1795672920000,null,1]],"t":[1795672920000],"c":0,"later":"ignored"})",
       }) {
    INFO(text);
    auto day = DecodeChildDay(kDay, text);
    REQUIRE(day.ok());
    CHECK(*day == want);
  }
}

TEST_CASE("malformed day states are errors, never crashes", "[day_codec]") {
  std::vector<std::string> bad = {
      "",
      "null",
      "[]",
      "42",
      "\"text\"",
      "{",
      "{}",
      R"({"v":[],"t":[]})",
      R"({"v":[],"c":0})",
      R"({"t":[],"c":0})",
      R"({"v":{},"t":[],"c":0})",
      R"({"v":5,"t":[],"c":0})",
      R"({"v":[],"t":{},"c":0})",
      R"({"v":[],"t":[],"c":2})",
      R"({"v":[],"t":[],"c":-1})",
      R"({"v":[],"t":[],"c":true})",
      R"({"v":[],"t":[],"c":"0"})",
      R"({"v":[],"t":[],"c":0.5})",
      R"({"v":[[1,2]],"t":[],"c":0})",
      R"({"v":[[1,2,0,0]],"t":[],"c":0})",
      R"({"v":[[1,2,8]],"t":[],"c":0})",
      R"({"v":[[1,2,-1]],"t":[],"c":0})",
      R"({"v":[[1.5,2,0]],"t":[],"c":0})",
      R"({"v":[["1",2,0]],"t":[],"c":0})",
      R"({"v":[[1,true,0]],"t":[],"c":0})",
      R"({"v":[[1,2,null]],"t":[],"c":0})",
      R"({"v":[5],"t":[],"c":0})",
      R"({"v":[],"t":[null],"c":0})",
      R"({"v":[],"t":["1"],"c":0})",
      R"({"v":[],"t":[1e300],"c":0})",
      R"({"v":[],"t":[18446744073709551615],"c":0})",
      R"({"v":[],"t":[99999999999999999999999],"c":0})",
      R"({"v":[[1,2,0]],"t":[1],"c":0}trailing)",
      R"({"v":[[1,2,0]],"t":[1],"c":0)",
      R"({"v":[[1,2,0],],"t":[],"c":0})",
      // Leading zeros are not JSON (the fast scanner took them: tests/fuzz/regressions).
      R"({"v":[[1,002,0]],"t":[],"c":0})",
      R"({"v":[],"t":[-01],"c":0})",
      R"({"v":[],"t":[],"c":00})",
      std::string(R"({"v":[[1,2,0]],"t":[1],"c":0})", 20),
      std::string(100000, '[') + std::string(100000, ']'),
      std::string(100000, '{'),
      std::string("{\"v\":[],\"t\":[],\"c\":0}\0", 22),
      "\xff\xfe{}",
  };
  for (const std::string& text : bad) {
    INFO(text.substr(0, 80));
    Result<ChildDay> day = DecodeChildDay(kDay, text);
    REQUIRE_FALSE(day.ok());
    CHECK(day.status().code() == Status::Code::kInvalidArgument);
    CHECK_THAT(day.status().message(), Catch::Matchers::StartsWith("day state: "));
  }
}

TEST_CASE("every truncation of a valid state is refused", "[day_codec]") {
  std::string text = EncodeChildDay(SampleDay());
  for (std::size_t n = 0; n < text.size(); ++n) {
    INFO(text.substr(0, n));
    CHECK_FALSE(DecodeChildDay(kDay, text.substr(0, n)).ok());
  }
}

}  // namespace
}  // namespace anshin
