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

TEST_CASE("an allowlist delta carries the lost cards among the added ones", "[wire]") {
  CardToken lost = *CardToken::Parse(kToken);
  CardToken other = *CardToken::Parse(std::string(32, 'b'));
  AllowlistDelta d{.version = 9, .full = false, .added = {other, lost}, .lost = {lost}};
  auto d2 = ParseAllowlistDelta(Serialize(d));
  REQUIRE(d2.ok());
  CHECK(d2->lost == d.lost);
  CHECK(d2->added == d.added);
  // From a server before lost cards were listed: none lost.
  auto old = ParseAllowlistDelta(R"({"version":1,"added":[")" + other.hex() + R"("]})");
  REQUIRE(old.ok());
  CHECK(old->lost.empty());
  // A lost card must be listed.
  auto bad = ParseAllowlistDelta(R"({"version":1,"added":[],"lost":[")" + lost.hex() + R"("]})");
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.status().message(), Catch::Contains("lost[0]"));
}

// Issue 12, defect 3: an integer the store cannot hold (SQLite INTEGER is int64) used to wrap
// negative; every protocol integer is now bounded by kMaxInteger (2^53 - 1).
TEST_CASE("integers above 2^53 - 1 are refused naming the field", "[wire]") {
  const std::string max = std::to_string(kMaxInteger);
  const std::string over = std::to_string(kMaxInteger + 1);
  auto at_max = ParseTapBatch(Batch(R"({"seq":)" + max + R"(,"card":")" + kToken +
                                    R"(","at":"2026-11-26T15:02:00+09:00","reader":"e"})"));
  INFO(at_max.status().ToString());
  REQUIRE(at_max.ok());
  CHECK(at_max->taps[0].seq == kMaxInteger);
  struct Case {
    std::string body, field;
  } cases[] = {
      {Batch(R"({"seq":9223372036854775808,"card":")" + std::string(kToken) +
             R"(","at":"2026-11-26T15:02:00+09:00","reader":"e"})"),
       "taps[0].seq"},
      {Batch(R"({"seq":)" + over + R"(,"card":")" + kToken +
             R"(","at":"2026-11-26T15:02:00+09:00","reader":"e"})"),
       "taps[0].seq"},
      {Batch(R"({"seq":18446744073709551615,"card":")" + std::string(kToken) +
             R"(","at":"2026-11-26T15:02:00+09:00","reader":"e"})"),
       "taps[0].seq"},
      {Batch(TapJson(1), R"(,"health":{"queue_depth":)" + over + "}"), "health.queue_depth"},
      {Batch(TapJson(1), R"(,"health":{"oldest_unsent_s":9223372036854775808})"),
       "health.oldest_unsent_s"},
      {Batch(TapJson(1), R"(,"health":{"unknown_taps":)" + over + "}"), "health.unknown_taps"},
      {Batch(TapJson(1), R"(,"health":{"rejected_batches":)" + over + "}"),
       "health.rejected_batches"},
  };
  for (const auto& c : cases) {
    INFO(c.body);
    auto b = ParseTapBatch(c.body);
    REQUIRE_FALSE(b.ok());
    CHECK(b.status().code() == Status::Code::kInvalidArgument);
    CHECK_THAT(b.status().message(), Catch::Matchers::StartsWith(c.field + ":"));
  }
  CHECK_FALSE(ParseTapAck(R"({"acked_through":)" + over +
                          R"(,"allowlist_version":1,"server_time":"2026-11-26T06:00:00Z"})")
                  .ok());
  CHECK_FALSE(ParseAllowlistDelta(R"({"version":)" + over + "}").ok());
}

// Issue 12, defect 8: nlohmann's DOM parser keeps the last of two equal keys and stops at a NUL
// byte, so both used to pass.
TEST_CASE("duplicate keys are refused naming the key and where it is", "[wire]") {
  struct Case {
    std::string body, message;
  } cases[] = {
      {R"({"agent":"a","agent":"b","sent_at":"2026-11-26T15:02:05Z","taps":[]})",
       "body: duplicate key \"agent\" at agent"},
      {Batch(R"({"seq":1,"seq":2,"card":")" + std::string(kToken) +
             R"(","at":"2026-11-26T15:02:00+09:00","reader":"e"})"),
       "body: duplicate key \"seq\" at taps[0].seq"},
      {Batch(TapJson(1) + R"(,{"seq":2,"card":")" + std::string(kToken) + R"(","card":")" +
             std::string(kToken) + R"(","at":"2026-11-26T15:02:00+09:00","reader":"e"})"),
       "body: duplicate key \"card\" at taps[1].card"},
      {Batch(TapJson(1), R"(,"health":{"queue_depth":1,"queue_depth":2})"),
       "body: duplicate key \"queue_depth\" at health.queue_depth"},
  };
  for (const auto& c : cases) {
    INFO(c.body);
    auto b = ParseTapBatch(c.body);
    REQUIRE_FALSE(b.ok());
    CHECK(b.status().code() == Status::Code::kInvalidArgument);
    CHECK(b.status().message() == c.message);
    CHECK_THAT(ErrorJson(b.status()), Catch::Matchers::Contains(R"("field":"body")"));
  }
  CHECK_FALSE(ParseTapAck(R"({"acked_through":1,"acked_through":2,"allowlist_version":1,)"
                          R"("server_time":"2026-11-26T06:00:00Z"})")
                  .ok());
}

TEST_CASE("bytes after the JSON document are refused", "[wire]") {
  const std::string good = Batch(TapJson(1));
  REQUIRE(ParseTapBatch(good).ok());
  REQUIRE(ParseTapBatch(good + "\r\n\t ").ok());  // trailing whitespace is part of JSON text
  for (const std::string& tail :
       {std::string("x"), std::string("{}"), std::string(" []"), std::string("\0", 1),
        std::string("\0{\"agent\":\"evil\"}", 17), std::string(",")}) {
    INFO(tail);
    auto b = ParseTapBatch(good + tail);
    REQUIRE_FALSE(b.ok());
    CHECK(b.status().code() == Status::Code::kInvalidArgument);
    CHECK_THAT(b.status().message(),
               Catch::Matchers::StartsWith("body: unexpected bytes after the JSON document"));
  }
  auto nested = ParseTapBatch(std::string(2000, '[') + std::string(2000, ']'));
  REQUIRE_FALSE(nested.ok());
  CHECK_THAT(nested.status().message(), Catch::Matchers::StartsWith("body: nested deeper"));
  auto broken = ParseTapBatch(R"({"agent": "a", "taps": [)");
  REQUIRE_FALSE(broken.ok());
  CHECK_THAT(broken.status().message(), Catch::Matchers::StartsWith("body: not valid JSON"));
}

TEST_CASE("a refused time cut inside a character still gives a JSON error body", "[wire]") {
  // 39 bytes then "é": the message quotes the first 40 bytes of the time (fuzz_wire found that
  // cutting there left half a character, and ErrorJson threw instead of answering 400).
  const std::string at = std::string(39, 'x') + "\xC3\xA9";
  auto b = ParseTapBatch(R"({"agent":"a","sent_at":")" + at + R"(","taps":[]})");
  REQUIRE_FALSE(b.ok());
  const std::string body = ErrorJson(b.status());
  CHECK_THAT(body, Catch::Matchers::Contains(R"("field":"sent_at")"));
  CHECK_THAT(body, Catch::Matchers::Contains(std::string(39, 'x') + "\\\""));
  // Any message that is not UTF-8 is written with U+FFFD rather than throwing.
  CHECK(ErrorJson(Status::InvalidArgument("x: \xC3")) ==
        "{\"error\":\"x: \xEF\xBF\xBD\",\"field\":\"x\",\"status\":\"invalid argument\"}");
}

TEST_CASE("opaque error bodies carry the id and no internal text", "[wire]") {
  std::string body = OpaqueErrorJson(Status::Code::kInternal, "internal error", "e-1f2e");
  CHECK(body == R"({"error":"internal error","error_id":"e-1f2e","status":"internal"})");
}

}  // namespace
}  // namespace anshin::wire
