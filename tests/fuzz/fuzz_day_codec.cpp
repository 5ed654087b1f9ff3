// fuzz_day_codec: the stored form of a child's day (common/day_codec.hpp), read back from the
// database on every tap.
//
// Two inputs from the same bytes:
//   1. the bytes as a stored text: DecodeChildDay never crashes, throws or leaks; a text it
//      accepts re-encodes to a text that decodes to the same day; and the fast scanner agrees
//      with the JSON reader: the same text behind a leading space (which only the JSON reader
//      takes) decodes to the same day, since the format is JSON whichever reader runs;
//   2. the bytes as a ChildDay (FuzzedDataProvider): DecodeChildDay(EncodeChildDay(d)) == d for
//      every day, extreme instants included.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/day_codec.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace anshin {
namespace {

const LocalDate kDate{2026, 11, 26};

void CheckText(std::string_view text) {
  Result<ChildDay> day = DecodeChildDay(kDate, text);
  Result<ChildDay> spaced = DecodeChildDay(kDate, " " + std::string(text));
  if (!day.ok()) {
    FUZZ_CHECK(!spaced.ok(), "only the JSON reader accepts " + std::string(text));
    return;
  }
  FUZZ_CHECK(day->date == kDate, "the date is the row's key");
  FUZZ_CHECK(spaced.ok() && *spaced == *day,
             "the scanner and the JSON reader disagree on " + std::string(text));
  const std::string encoded = EncodeChildDay(*day);
  Result<ChildDay> again = DecodeChildDay(kDate, encoded);
  FUZZ_CHECK(again.ok() && *again == *day, "re-encoded " + encoded + " reads back otherwise");
  FUZZ_CHECK(EncodeChildDay(*again) == encoded, "encoding is not stable: " + encoded);
}

std::optional<TimePoint> OptionalInstant(FuzzedDataProvider& in) {
  if (!in.ConsumeBool()) return std::nullopt;
  return FromUnixMillis(in.ConsumeIntegral<std::int64_t>());
}

ChildDay MakeDay(FuzzedDataProvider& in) {
  ChildDay day;
  day.date = LocalDate{in.ConsumeIntegralInRange(-9999, 9999), in.ConsumeIntegralInRange(1u, 12u),
                       in.ConsumeIntegralInRange(1u, 31u)};
  const std::size_t visits = in.ConsumeIntegralInRange<std::size_t>(0, 12);
  for (std::size_t i = 0; i < visits; ++i) {
    Visit v;
    v.arrival = OptionalInstant(in);
    v.departure = OptionalInstant(in);
    v.inferred = in.ConsumeBool();
    v.corrected = in.ConsumeBool();
    v.departure_unknown = in.ConsumeBool();
    day.visits.push_back(v);
  }
  const std::size_t taps = in.ConsumeIntegralInRange<std::size_t>(0, 24);
  for (std::size_t i = 0; i < taps; ++i) {
    day.accepted_taps.push_back(FromUnixMillis(in.ConsumeIntegral<std::int64_t>()));
  }
  day.closing_alerted = in.ConsumeBool();
  return day;
}

void CheckDay(const ChildDay& day) {
  const std::string encoded = EncodeChildDay(day);
  Result<ChildDay> back = DecodeChildDay(day.date, encoded);
  FUZZ_CHECK(back.ok(), encoded + ": " + back.status().ToString());
  FUZZ_CHECK(*back == day, "decode(encode(day)) != day for " + encoded);
}

}  // namespace
}  // namespace anshin

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  anshin::CheckText(std::string_view(reinterpret_cast<const char*>(data), size));
  FuzzedDataProvider in(data, size);
  anshin::CheckDay(anshin::MakeDay(in));
  return 0;
}
