#include <catch2/catch.hpp>

#include "common/wire.hpp"

namespace anshin::wire {
namespace {

const char* kToken = "0123456789abcdef0123456789abcdef";

std::string Batch(const std::string& taps, const std::string& extra = "") {
  return R"({"agent":"hikari-1","sent_at":"2026-11-26T15:02:05+09:00","taps":[)" + taps + "]" +
         extra + "}";
}
std::string TapJson(int seq, const std::string& at = "2026-11-26T15:02:00+09:00") {
  return R"({"seq":)" + std::to_string(seq) + R"(,"card":")" + kToken + R"(","at":")" + at +
         R"(","reader":"entrance","direction":"auto"})";
}

TEST_CASE("a tap batch parses and round-trips", "[wire]") {
  auto b = ParseTapBatch(
      Batch(TapJson(1) + "," + TapJson(2), R"(,"health":{"queue_depth":2,"reader_state":"ok"})"));
  INFO(b.status().ToString());
  REQUIRE(b.ok());
  CHECK(b->agent == "hikari-1");
  REQUIRE(b->taps.size() == 2);
  CHECK(b->taps[1].seq == 2);
  CHECK(b->taps[0].card.hex() == kToken);
  REQUIRE(b->health);
  CHECK(b->health->queue_depth == 2);
  auto again = ParseTapBatch(Serialize(*b));
  REQUIRE(again.ok());
  CHECK(again->taps == b->taps);
  CHECK(again->sent_at == b->sent_at);
  CHECK(again->health == b->health);
}

TEST_CASE("tap batch errors name the field", "[wire]") {
  struct Case {
    std::string body, field;
  } cases[] = {
      {"not json", "body"},
      {"[]", "body"},
      {R"({"sent_at":"2026-11-26T15:02:05Z","taps":[]})", "agent"},
      {Batch(TapJson(1, "yesterday")), "taps[0].at"},
      {Batch(TapJson(2) + "," + TapJson(2)), "taps[1].seq"},
      {Batch(R"({"seq":"1"})"), "taps[0].seq"},
      {Batch(R"({"seq":0})"), "taps[0].seq"},
      {Batch(R"({"seq":1,"card":"ABC","at":"2026-11-26T15:02:05Z","reader":"e"})"), "taps[0].card"},
      {Batch(R"({"seq":1,"card":")" + std::string(kToken) +
             R"(","at":"2026-11-26T15:02:05Z","reader":"e","direction":"up"})"),
       "taps[0].direction"},
      {Batch(R"({"seq":1,"card":")" + std::string(kToken) +
             R"(","at":"2026-11-26T15:02:05Z","reader":"e","x":1})"),
       "taps[0].x"},
      {Batch(TapJson(1), R"(,"health":{"queue_depth":-1})"), "health.queue_depth"},
      {R"({"agent":"a","sent_at":"2026-11-26T15:02:05Z","taps":{}})", "taps"},
  };
  for (const auto& c : cases) {
    INFO(c.body);
    auto b = ParseTapBatch(c.body);
    REQUIRE_FALSE(b.ok());
    CHECK(b.status().code() == Status::Code::kInvalidArgument);
    CHECK_THAT(b.status().message(), Catch::Matchers::StartsWith(c.field + ":"));
    CHECK_THAT(ErrorJson(b.status()), Catch::Matchers::Contains(R"("field":")" + c.field + "\""));
  }
}

TEST_CASE("oversized batches are refused as too large", "[wire]") {
  std::string taps;
  for (size_t i = 1; i <= kMaxTapsPerBatch + 1; ++i) taps += (i > 1 ? "," : "") + TapJson(int(i));
  auto b = ParseTapBatch(Batch(taps));
  REQUIRE_FALSE(b.ok());
  CHECK(b.status().code() == Status::Code::kTooLarge);
}

TEST_CASE("acks and allowlist deltas round-trip", "[wire]") {
  TapAck a{.acked_through = 41,
           .allowlist_version = 7,
           .server_time = *ParseRfc3339("2026-11-26T06:00:00Z"),
           .gap = SeqGap{42, 44}};
  auto a2 = ParseTapAck(Serialize(a));
  REQUIRE(a2.ok());
  CHECK(a2->acked_through == 41);
  CHECK(a2->gap == a.gap);
  AllowlistDelta d{.version = 9, .full = true, .added = {*CardToken::Parse(kToken)}, .removed = {}};
  auto d2 = ParseAllowlistDelta(Serialize(d));
  REQUIRE(d2.ok());
  CHECK(d2->full);
  CHECK(d2->added == d.added);
  CHECK_FALSE(ParseAllowlistDelta(R"({"version":1,"added":["nope"]})").ok());
}

}  // namespace
}  // namespace anshin::wire
