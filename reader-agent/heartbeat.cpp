#include "reader-agent/heartbeat.hpp"

#include <chrono>

#include "common/sys/sys.hpp"

namespace anshin::agent {
namespace {

constexpr std::string_view kDayNames[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

Result<int> DayIndex(std::string_view name) {
  for (int i = 0; i < 7; ++i) {
    if (kDayNames[i] == name) return i;
  }
  return Status::InvalidArgument("uplink.heartbeat_days: \"" + std::string(name) +
                                 "\" is not a day (sun, mon, tue, wed, thu, fri, sat)");
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

Result<std::array<bool, 7>> ParseDays(std::string_view text) {
  std::array<bool, 7> days{};
  if (Trim(text).empty()) {
    return Status::InvalidArgument("uplink.heartbeat_days: empty (e.g. \"mon-sat\")");
  }
  while (!text.empty()) {
    auto comma = text.find(',');
    std::string_view item = Trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    auto dash = item.find('-');
    ANSHIN_ASSIGN_OR_RETURN(int first, DayIndex(Trim(item.substr(0, dash))));
    int last = first;
    if (dash != std::string_view::npos) {
      ANSHIN_ASSIGN_OR_RETURN(last, DayIndex(Trim(item.substr(dash + 1))));
    }
    // "fri-mon" wraps over the weekend.
    for (int d = first;; d = (d + 1) % 7) {
      days[d] = true;
      if (d == last) break;
    }
  }
  return days;
}

Status ParseHours(std::string_view text, HeartbeatSchedule& out) {
  auto bad = [&](std::string why) {
    return Status::InvalidArgument("uplink.heartbeat_hours: " + why + ", got \"" +
                                   std::string(text) + "\" (expected e.g. \"13:00-19:00\")");
  };
  auto dash = text.find('-');
  if (dash == std::string_view::npos) return bad("missing '-'");
  auto from = LocalTime::Parse(Trim(text.substr(0, dash)));
  std::string_view until_text = Trim(text.substr(dash + 1));
  if (!from.ok()) return bad("bad start time");
  if (until_text == "24:00") {
    out.until = LocalTime{86'400};
  } else {
    auto until = LocalTime::Parse(until_text);
    if (!until.ok()) return bad("bad end time");
    out.until = *until;
  }
  out.from = *from;
  if (!(out.from < out.until)) return bad("the end must be after the start");
  return Status::Ok();
}

}  // namespace

bool HeartbeatSchedule::InHours(TimePoint now, int utc_offset_seconds) const {
  using namespace std::chrono;
  auto local = floor<Seconds>(now) + Seconds(utc_offset_seconds);
  auto day = floor<std::chrono::days>(local);
  unsigned weekday = std::chrono::weekday(day).c_encoding();  // 0 = Sunday
  auto seconds_of_day = static_cast<int>((local - day).count());
  return days[weekday] && seconds_of_day >= from.seconds && seconds_of_day < until.seconds;
}

bool HeartbeatSchedule::Due(TimePoint now, int utc_offset_seconds,
                            std::optional<TimePoint> last_contact,
                            std::optional<TimePoint> last_attempt) const {
  if (!enabled() || !InHours(now, utc_offset_seconds)) return false;
  auto recent = [&](const std::optional<TimePoint>& t) {
    return t && now >= *t && now - *t < interval;
  };
  return !recent(last_contact) && !recent(last_attempt);
}

HeartbeatSchedule HeartbeatSchedule::Daily() {
  return HeartbeatSchedule{.interval = std::chrono::hours(24)};
}

Result<HeartbeatSchedule> HeartbeatSchedule::Parse(std::string_view interval,
                                                   std::string_view hours, std::string_view days) {
  HeartbeatSchedule out;
  if (interval == "off") return out;
  auto d = sys::ParseDuration(interval);
  if (!d.ok()) {
    return Status::InvalidArgument(
        "uplink.heartbeat: expected \"off\" or a duration such as "
        "\"30m\", got \"" +
        std::string(interval) + "\"");
  }
  if (*d < Millis(1000) || *d > Millis(std::chrono::hours(24))) {
    return Status::InvalidArgument("uplink.heartbeat: must be between 1s and 24h (or \"off\")");
  }
  out.interval = *d;
  if (Trim(hours).empty()) {
    return Status::InvalidArgument(
        "uplink.heartbeat_hours: required when uplink.heartbeat is on (the opening hours, e.g. "
        "\"13:00-19:00\")");
  }
  ANSHIN_RETURN_IF_ERROR(ParseHours(hours, out));
  ANSHIN_ASSIGN_OR_RETURN(out.days, ParseDays(days));
  return out;
}

}  // namespace anshin::agent
