// Structured logging for the binaries: every line is one record in logfmt (key=value, "text",
// the default) or JSON ("json"), written to stderr, where journald picks it up under systemd.
//
//   text: time=2026-12-01T19:16:02.123+09:00 level=info msg="mail: started" relay=smtp://…
//   json: {"time":"2026-12-01T19:16:02.123+09:00","level":"info","msg":"mail: started",…}
//
// Times are RFC 3339 with the UTC offset of the process's local zone (TZ, /etc/localtime) or of
// a zone the caller supplies. Under systemd (JOURNAL_STREAM set) the time is left out, because
// journald stamps every line itself, and the line starts with the syslog priority ("<6>") so
// `journalctl -p warning` works; docs/operations.md says so.
//
// Fields: LogEvent() (or WithFields() as the argument of an ordinary spdlog call) attaches
// key=value pairs that the formatter renders as logfmt pairs or JSON members, escaped, so every
// caller writes `event=tap agent=X seq=N` the same way. Plain spdlog::info("...") lines keep
// working; their text becomes `msg`. Fields carry IDs and tokens only, never names or addresses.
//
// Thread-safety: InitLogging() is called once in main() before threads start; LogEvent() and
// the formatter are thread-safe (spdlog serialises the sink).
#pragma once

#include <spdlog/common.h>
#include <spdlog/formatter.h>

#include <concepts>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.hpp"
#include "common/time.hpp"

namespace anshin::sys {

enum class LogFormat { kText, kJson };

// "text" or "json"; the error names `key` ("log.format: expected \"text\" or \"json\" ...").
Result<LogFormat> ParseLogFormat(std::string_view key, std::string_view text);
// trace, debug, info, warn, error, critical or off; the error names `key`.
Result<spdlog::level::level_enum> ParseLogLevel(std::string_view key, std::string_view text);

// Seconds east of UTC at `t` in the process's local zone (localtime_r: TZ or /etc/localtime).
int LocalUtcOffset(TimePoint t);

struct LogOptions {
  std::string program;  // the logger's name ("anshin-server")
  spdlog::level::level_enum level = spdlog::level::info;
  LogFormat format = LogFormat::kText;
  // Leave the time out (journald stamps lines). InitLogging sets it from JOURNAL_STREAM.
  bool omit_time = false;
  // Prefix each line with its syslog priority, "<3>" .. "<7>" (journald's SyslogLevelPrefix).
  bool syslog_prefix = false;
  // The offset used in timestamps; empty = LocalUtcOffset (the process's local zone).
  std::function<int(TimePoint)> utc_offset;
};

// Installs the default spdlog logger: stderr, the formatter below, `options.level`.
// omit_time and syslog_prefix are set when JOURNAL_STREAM is in the environment.
Status InitLogging(LogOptions options);
// The historical entry point: text format, level by name.
Status InitLogging(const std::string& program, const std::string& level);

// The formatter InitLogging installs; tests attach it to a sink of their own.
std::unique_ptr<spdlog::formatter> MakeLogFormatter(const LogOptions& options);

// One structured field. Keys are lowercase identifiers ([a-z0-9_.]; capitals are lowered, other
// bytes become
// '_');
// the record's own keys (time, level, msg) get an "x_" prefix rather than clash.
class LogField {
 public:
  LogField(std::string_view key, std::string_view value);
  LogField(std::string_view key, const char* value) : LogField(key, std::string_view(value)) {}
  LogField(std::string_view key, const std::string& value)
      : LogField(key, std::string_view(value)) {}
  LogField(std::string_view key, bool value);
  template <std::integral T>
  requires(!std::same_as<T, bool> && !std::same_as<T, char>) LogField(std::string_view key, T value)
      : LogField(key, Number{std::to_string(value)}) {}

  const std::string& key() const { return key_; }
  const std::string& value() const { return value_; }
  bool is_string() const { return is_string_; }

 private:
  struct Number {
    std::string text;
  };
  LogField(std::string_view key, Number n);
  std::string key_;
  std::string value_;
  bool is_string_ = true;
};

// The payload of a log call: `message` followed by the fields, encoded for the formatter.
//   spdlog::warn("{}", sys::WithFields("upload failed", {{"agent", name}, {"error",
//   s.message()}}));
std::string WithFields(std::string_view message, std::initializer_list<LogField> fields);

// Logs `event=<event>` and the fields at `level` on the default logger (nothing is built when
// the level is disabled):  sys::LogEvent(spdlog::level::debug, "tap", {{"agent", a}, {"seq", n}});
void LogEvent(spdlog::level::level_enum level, std::string_view event,
              std::initializer_list<LogField> fields);

// One record, formatted as the installed formatter does (without the trailing newline). Pure;
// `utc_offset_seconds` is the offset in effect at `time`.
std::string FormatLogRecord(LogFormat format, bool omit_time, bool syslog_prefix, TimePoint time,
                            int utc_offset_seconds, spdlog::level::level_enum level,
                            std::string_view payload);

// RFC 3339 with milliseconds and a numeric offset: "2026-12-01T19:16:02.123+09:00".
std::string FormatLogTime(TimePoint time, int utc_offset_seconds);

}  // namespace anshin::sys
