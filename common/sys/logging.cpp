#include "common/sys/logging.hpp"

#include <spdlog/details/log_msg.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace anshin::sys {
namespace {

// The payload of a record with fields: message, then per field kFieldSep key kValueSep tag
// value, tag 's' (string) or 'n' (number or boolean, written bare).
constexpr char kFieldSep = '\x1f';
constexpr char kValueSep = '\x1e';

struct Field {
  std::string key;
  std::string_view value;
  bool is_string = true;
};

std::string_view LevelName(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return "trace";
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "info";
    case spdlog::level::warn:
      return "warn";
    case spdlog::level::err:
      return "error";
    case spdlog::level::critical:
      return "critical";
    default:
      return "off";
  }
}

// syslog(3) priorities, as journald reads them from a "<N>" prefix.
int SyslogPriority(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::critical:
      return 2;
    case spdlog::level::err:
      return 3;
    case spdlog::level::warn:
      return 4;
    case spdlog::level::info:
      return 6;
    default:
      return 7;
  }
}

std::string SanitizeKey(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  for (char c : key) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
    out.push_back(ok ? c : '_');
  }
  if (out.empty()) out = "_";
  if (out == "time" || out == "level" || out == "msg") out = "x_" + out;
  return out;
}

// A value must not contain the payload's own separators.
std::string SanitizeValue(std::string_view value) {
  std::string out(value);
  for (char& c : out) {
    if (c == kFieldSep || c == kValueSep) c = '?';
  }
  return out;
}

// logfmt: bare when it is a plain token, else quoted with \" \\ \n \r \t and \u00XX escapes.
void AppendLogfmtValue(std::string& out, std::string_view v) {
  bool bare = !v.empty();
  for (unsigned char c : v) {
    if (c <= ' ' || c == '=' || c == '"' || c == '\\' || c == 0x7f) bare = false;
  }
  if (bare) {
    out.append(v);
    return;
  }
  out.push_back('"');
  for (unsigned char c : v) {
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out.append(fmt::format("\\u{:04x}", c));
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

// A JSON string literal; invalid UTF-8 is replaced by U+FFFD rather than breaking the line.
void AppendJsonString(std::string& out, std::string_view v) {
  out.append(nlohmann::json(std::string(v))
                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

bool IsBareValue(std::string_view v) {
  if (v == "true" || v == "false") return true;
  if (!v.empty() && v.front() == '-') v.remove_prefix(1);
  if (v.empty() || v.size() > 20) return false;
  for (char c : v) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Splits a payload into its message and fields (views into `payload`).
std::string_view SplitPayload(std::string_view payload, std::vector<Field>& fields) {
  auto first = payload.find(kFieldSep);
  std::string_view message = payload.substr(0, first);
  while (first != std::string_view::npos) {
    auto next = payload.find(kFieldSep, first + 1);
    std::string_view part = payload.substr(
        first + 1, next == std::string_view::npos ? std::string_view::npos : next - first - 1);
    auto sep = part.find(kValueSep);
    if (sep != std::string_view::npos && sep + 1 < part.size()) {
      fields.push_back(
          {SanitizeKey(part.substr(0, sep)), part.substr(sep + 2), part[sep + 1] == 's'});
      // A tag 'n' that is not a number or boolean (text that merely looked like a field) is
      // written as a string, so the JSON stays valid.
      if (!fields.back().is_string && !IsBareValue(fields.back().value)) {
        fields.back().is_string = true;
      }
    }
    first = next;
  }
  return message;
}

class StructuredFormatter final : public spdlog::formatter {
 public:
  explicit StructuredFormatter(LogOptions options) : options_(std::move(options)) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    TimePoint t = std::chrono::time_point_cast<Millis>(msg.time);
    int offset = 0;
    if (!options_.omit_time)
      offset = options_.utc_offset ? options_.utc_offset(t) : LocalUtcOffset(t);
    std::string line =
        FormatLogRecord(options_.format, options_.omit_time, options_.syslog_prefix, t, offset,
                        msg.level, std::string_view(msg.payload.data(), msg.payload.size()));
    line.push_back('\n');
    dest.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<StructuredFormatter>(options_);
  }

 private:
  LogOptions options_;
};

}  // namespace

Result<LogFormat> ParseLogFormat(std::string_view key, std::string_view text) {
  if (text == "text") return LogFormat::kText;
  if (text == "json") return LogFormat::kJson;
  return Status::InvalidArgument(std::string(key) + ": expected \"text\" or \"json\", got \"" +
                                 std::string(text) + "\"");
}

Result<spdlog::level::level_enum> ParseLogLevel(std::string_view key, std::string_view text) {
  static constexpr std::pair<std::string_view, spdlog::level::level_enum> kLevels[] = {
      {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug},
      {"info", spdlog::level::info},   {"warn", spdlog::level::warn},
      {"error", spdlog::level::err},   {"critical", spdlog::level::critical},
      {"off", spdlog::level::off},
  };
  for (const auto& [name, level] : kLevels) {
    if (name == text) return level;
  }
  return Status::InvalidArgument(std::string(key) +
                                 ": expected trace, debug, info, warn, error, critical or off, "
                                 "got \"" +
                                 std::string(text) + "\"");
}

int LocalUtcOffset(TimePoint t) {
  std::time_t secs =
      static_cast<std::time_t>(std::chrono::floor<Seconds>(t).time_since_epoch().count());
  std::tm tm{};
  if (::localtime_r(&secs, &tm) == nullptr) return 0;
  return static_cast<int>(tm.tm_gmtoff);
}

std::string FormatLogTime(TimePoint time, int utc_offset_seconds) {
  using namespace std::chrono;
  TimePoint local = time + Seconds(utc_offset_seconds);
  auto day = floor<days>(local);
  year_month_day ymd{day};
  hh_mm_ss<Millis> tod{local - day};
  int off = utc_offset_seconds;
  char sign = off < 0 ? '-' : '+';
  if (off < 0) off = -off;
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}{}{:02}:{:02}",
                     static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                     static_cast<unsigned>(ymd.day()), tod.hours().count(), tod.minutes().count(),
                     tod.seconds().count(), tod.subseconds().count(), sign, off / 3600,
                     off / 60 % 60);
}

std::string FormatLogRecord(LogFormat format, bool omit_time, bool syslog_prefix, TimePoint time,
                            int utc_offset_seconds, spdlog::level::level_enum level,
                            std::string_view payload) {
  std::vector<Field> fields;
  std::string_view message = SplitPayload(payload, fields);
  std::string out;
  if (syslog_prefix) out = fmt::format("<{}>", SyslogPriority(level));
  if (format == LogFormat::kText) {
    if (!omit_time) out.append("time=").append(FormatLogTime(time, utc_offset_seconds)).append(" ");
    out.append("level=").append(LevelName(level));
    if (!message.empty() || fields.empty()) {
      out.append(" msg=");
      AppendLogfmtValue(out, message);
    }
    for (const Field& f : fields) {
      out.append(" ").append(f.key).append("=");
      AppendLogfmtValue(out, f.value);
    }
    return out;
  }
  out.push_back('{');
  if (!omit_time) {
    out.append("\"time\":");
    AppendJsonString(out, FormatLogTime(time, utc_offset_seconds));
    out.push_back(',');
  }
  out.append("\"level\":");
  AppendJsonString(out, LevelName(level));
  if (!message.empty() || fields.empty()) {
    out.append(",\"msg\":");
    AppendJsonString(out, message);
  }
  for (const Field& f : fields) {
    out.push_back(',');
    AppendJsonString(out, f.key);
    out.push_back(':');
    if (f.is_string) {
      AppendJsonString(out, f.value);
    } else {
      out.append(f.value);
    }
  }
  out.push_back('}');
  return out;
}

std::unique_ptr<spdlog::formatter> MakeLogFormatter(const LogOptions& options) {
  return std::make_unique<StructuredFormatter>(options);
}

Status InitLogging(LogOptions options) {
  if (std::getenv("JOURNAL_STREAM") != nullptr) {
    options.omit_time = true;
    options.syslog_prefix = true;
  }
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>(options.program, std::move(sink));
  logger->set_formatter(MakeLogFormatter(options));
  logger->set_level(options.level);
  spdlog::set_default_logger(std::move(logger));
  return Status::Ok();
}

Status InitLogging(const std::string& program, const std::string& level) {
  ANSHIN_ASSIGN_OR_RETURN(auto lvl, ParseLogLevel("log level", level));
  return InitLogging(LogOptions{.program = program, .level = lvl});
}

LogField::LogField(std::string_view key, std::string_view value)
    : key_(SanitizeKey(key)), value_(SanitizeValue(value)) {}

LogField::LogField(std::string_view key, bool value)
    : key_(SanitizeKey(key)), value_(value ? "true" : "false"), is_string_(false) {}

LogField::LogField(std::string_view key, Number n)
    : key_(SanitizeKey(key)), value_(std::move(n.text)), is_string_(false) {}

std::string WithFields(std::string_view message, std::initializer_list<LogField> fields) {
  std::string out = SanitizeValue(message);
  for (const LogField& f : fields) {
    out.push_back(kFieldSep);
    out.append(f.key());
    out.push_back(kValueSep);
    out.push_back(f.is_string() ? 's' : 'n');
    out.append(f.value());
  }
  return out;
}

void LogEvent(spdlog::level::level_enum level, std::string_view event,
              std::initializer_list<LogField> fields) {
  if (!spdlog::should_log(level)) return;
  std::string payload = WithFields("", {LogField("event", event)});
  payload.append(WithFields("", fields));
  spdlog::log(level, "{}", payload);
}

}  // namespace anshin::sys
