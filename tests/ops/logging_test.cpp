// Structured log lines (common/sys/logging): RFC 3339 times with the offset, logfmt quoting,
// valid JSON with escaped fields, the journald variant, and the spdlog wiring.
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/sys/logging.hpp"

namespace anshin::sys {
namespace {

using spdlog::level::level_enum;
constexpr int kJst = 9 * 3600;

// 2026-12-01T10:16:02.123Z = 19:16:02.123 in Tokyo.
TimePoint Sample() { return TimePoint(Millis(1796120162123)); }

TEST_CASE("log time is RFC 3339 with milliseconds and the local offset", "[logging]") {
  CHECK(FormatLogTime(Sample(), kJst) == "2026-12-01T19:16:02.123+09:00");
  CHECK(FormatLogTime(Sample(), 0) == "2026-12-01T10:16:02.123+00:00");
  CHECK(FormatLogTime(Sample(), -(3 * 3600 + 30 * 60)) == "2026-12-01T06:46:02.123-03:30");
  // The local date may differ from the UTC date.
  CHECK(FormatLogTime(TimePoint(Millis(1796151600000)), kJst) == "2026-12-02T04:00:00.000+09:00");
  CHECK(ParseRfc3339(FormatLogTime(Sample(), kJst)).value() == Sample());
}

TEST_CASE("text lines are logfmt with quoting where needed", "[logging]") {
  std::string line = FormatLogRecord(LogFormat::kText, false, false, Sample(), kJst,
                                     level_enum::info, "mail: started");
  CHECK(line == "time=2026-12-01T19:16:02.123+09:00 level=info msg=\"mail: started\"");

  std::string payload = WithFields("", {{"event", "tap"}, {"agent", "hikari-1"}, {"seq", 42}});
  CHECK(
      FormatLogRecord(LogFormat::kText, false, false, Sample(), kJst, level_enum::debug, payload) ==
      "time=2026-12-01T19:16:02.123+09:00 level=debug event=tap agent=hikari-1 seq=42");

  std::string tricky =
      WithFields("said \"no\"", {{"error", "a=b c\nd\\e"}, {"empty", ""}, {"ok", true}, {"n", -7}});
  CHECK(FormatLogRecord(LogFormat::kText, false, false, Sample(), kJst, level_enum::warn, tricky) ==
        "time=2026-12-01T19:16:02.123+09:00 level=warn msg=\"said \\\"no\\\"\" "
        "error=\"a=b c\\nd\\\\e\" empty=\"\" ok=true n=-7");
  // Control characters never reach the terminal raw.
  CHECK(FormatLogRecord(LogFormat::kText, true, false, Sample(), 0, level_enum::err, "bell\x07") ==
        "level=error msg=\"bell\\u0007\"");
}

TEST_CASE("json lines are valid JSON with every field escaped", "[logging]") {
  std::string payload =
      WithFields("upload failed: \"503\"\n", {{"agent", "hikari-1"},
                                              {"seq", std::uint64_t{18446744073709551615u}},
                                              {"error", "tab\there \x01 quote\" backslash\\"},
                                              {"retry", false},
                                              {"utf8", "\xe5\x85\x89"},
                                              {"bad_utf8", "\xff\xfe"}});
  std::string line =
      FormatLogRecord(LogFormat::kJson, false, false, Sample(), kJst, level_enum::warn, payload);
  auto j = nlohmann::json::parse(line);  // throws if not valid JSON
  CHECK(j["time"] == "2026-12-01T19:16:02.123+09:00");
  CHECK(j["level"] == "warn");
  CHECK(j["msg"] == "upload failed: \"503\"\n");
  CHECK(j["agent"] == "hikari-1");
  CHECK(j["seq"] == 18446744073709551615u);
  CHECK(j["error"] == "tab\there \x01 quote\" backslash\\");
  CHECK(j["retry"] == false);
  CHECK(j["utf8"] == "\xe5\x85\x89");
  CHECK(j["bad_utf8"].is_string());
  // Members keep the order they were logged in: time, level, msg, fields.
  CHECK(line.rfind("{\"time\":", 0) == 0);
  CHECK(line.find("\"agent\"") < line.find("\"seq\""));
}

TEST_CASE("field keys cannot clash with the record's own keys or break the line", "[logging]") {
  std::string payload = WithFields("m", {{"level", "x"}, {"Bad Key=", "v"}, {"msg", "y"}});
  auto j = nlohmann::json::parse(
      FormatLogRecord(LogFormat::kJson, false, false, Sample(), 0, level_enum::info, payload));
  CHECK(j["level"] == "info");
  CHECK(j["msg"] == "m");
  CHECK(j["x_level"] == "x");
  CHECK(j["x_msg"] == "y");
  CHECK(j["bad_key_"] == "v");
  // A value cannot smuggle in a field of its own.
  std::string smuggle = WithFields("", {{"error",
                                         "a\x1f"
                                         "level\x1e"
                                         "nfake"}});
  auto k = nlohmann::json::parse(
      FormatLogRecord(LogFormat::kJson, false, false, Sample(), 0, level_enum::info, smuggle));
  CHECK(k.size() == 3);  // time, level, error
  CHECK(k["error"] == "a?level?nfake");
}

TEST_CASE("under journald the time is left out and the priority leads", "[logging]") {
  CHECK(FormatLogRecord(LogFormat::kText, true, true, Sample(), kJst, level_enum::err, "boom") ==
        "<3>level=error msg=boom");
  CHECK(FormatLogRecord(LogFormat::kText, true, true, Sample(), kJst, level_enum::info, "x") ==
        "<6>level=info msg=x");
  std::string json =
      FormatLogRecord(LogFormat::kJson, true, true, Sample(), kJst, level_enum::warn, "x");
  REQUIRE(json.rfind("<4>", 0) == 0);
  auto j = nlohmann::json::parse(json.substr(3));
  CHECK_FALSE(j.contains("time"));
  CHECK(j["level"] == "warn");
}

TEST_CASE("the formatter renders spdlog calls and LogEvent with the configured offset",
          "[logging]") {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  auto logger = std::make_shared<spdlog::logger>("test", sink);
  logger->set_formatter(MakeLogFormatter(
      LogOptions{.format = LogFormat::kJson, .utc_offset = [](TimePoint) { return kJst; }}));
  logger->set_level(spdlog::level::debug);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(logger);
  spdlog::info("allowlist version {}: {} cards", 3, 12);
  LogEvent(spdlog::level::debug, "tap", {{"agent", "hikari-1"}, {"seq", 7}});
  LogEvent(spdlog::level::trace, "hidden", {});  // below the level: nothing
  spdlog::set_default_logger(previous);

  std::istringstream lines(out.str());
  std::string first, second, third;
  REQUIRE(std::getline(lines, first));
  REQUIRE(std::getline(lines, second));
  CHECK_FALSE(std::getline(lines, third));
  auto a = nlohmann::json::parse(first);
  CHECK(a["msg"] == "allowlist version 3: 12 cards");
  CHECK(a["time"].get<std::string>().ends_with("+09:00"));
  auto b = nlohmann::json::parse(second);
  CHECK(b["event"] == "tap");
  CHECK(b["agent"] == "hikari-1");
  CHECK(b["seq"] == 7);
  CHECK_FALSE(b.contains("msg"));
}

TEST_CASE("the local offset follows TZ", "[logging]") {
  const char* old = std::getenv("TZ");
  std::string saved = old ? old : "";
  ::setenv("TZ", "Asia/Tokyo", 1);
  ::tzset();
  CHECK(LocalUtcOffset(Sample()) == kJst);
  ::setenv("TZ", "UTC", 1);
  ::tzset();
  CHECK(LocalUtcOffset(Sample()) == 0);
  if (old) {
    ::setenv("TZ", saved.c_str(), 1);
  } else {
    ::unsetenv("TZ");
  }
  ::tzset();
}

TEST_CASE("log format and level are parsed by name, errors name the key", "[logging]") {
  CHECK(ParseLogFormat("log.format", "text").value() == LogFormat::kText);
  CHECK(ParseLogFormat("log.format", "json").value() == LogFormat::kJson);
  auto bad = ParseLogFormat("log.format", "JSON");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().rfind("log.format: ", 0) == 0);
  CHECK(ParseLogLevel("log.level", "warn").value() == spdlog::level::warn);
  CHECK(ParseLogLevel("log.level", "error").value() == spdlog::level::err);
  CHECK_FALSE(ParseLogLevel("log.level", "verbose").ok());
}

}  // namespace
}  // namespace anshin::sys
