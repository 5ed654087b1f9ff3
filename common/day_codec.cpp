#include "common/day_codec.hpp"

#include <charconv>
#include <nlohmann/json.hpp>
#include <optional>

namespace anshin {
namespace {

// The engine's ChildDay as a compact JSON document:
// {"v":[[arrival_ms|null,departure_ms|null,flags],...],"t":[accepted tap ms,...],"c":0|1}
// with flags bit 0 inferred, bit 1 corrected, bit 2 departure_unknown. Written and read by
// hand on the ingest path (nlohmann::json reads anything else that is valid JSON).
void AppendInt(std::string& out, std::int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

void AppendOptTime(std::string& out, const std::optional<TimePoint>& t) {
  if (t) {
    AppendInt(out, ToUnixMillis(*t));
  } else {
    out += "null";
  }
}

}  // namespace

std::string EncodeChildDay(const ChildDay& day) {
  std::string out;
  out.reserve(32 + day.visits.size() * 40 + day.accepted_taps.size() * 14);
  out += "{\"v\":[";
  for (std::size_t i = 0; i < day.visits.size(); ++i) {
    const Visit& v = day.visits[i];
    if (i > 0) out += ',';
    out += '[';
    AppendOptTime(out, v.arrival);
    out += ',';
    AppendOptTime(out, v.departure);
    out += ',';
    AppendInt(out, (v.inferred ? 1 : 0) | (v.corrected ? 2 : 0) | (v.departure_unknown ? 4 : 0));
    out += ']';
  }
  out += "],\"t\":[";
  for (std::size_t i = 0; i < day.accepted_taps.size(); ++i) {
    if (i > 0) out += ',';
    AppendInt(out, ToUnixMillis(day.accepted_taps[i]));
  }
  out += "],\"c\":";
  out += day.closing_alerted ? '1' : '0';
  out += '}';
  return out;
}

// A strict reader of exactly what DayToJson writes.
class DayScanner {
 public:
  explicit DayScanner(std::string_view s) : s_(s) {}
  bool Lit(std::string_view lit) {
    if (s_.substr(0, lit.size()) != lit) return false;
    s_.remove_prefix(lit.size());
    return true;
  }
  bool Peek(char c) const { return !s_.empty() && s_.front() == c; }
  bool Int(std::int64_t& v) {
    auto [p, ec] = std::from_chars(s_.data(), s_.data() + s_.size(), v);
    if (ec != std::errc() || p == s_.data()) return false;
    s_.remove_prefix(static_cast<std::size_t>(p - s_.data()));
    return true;
  }
  bool OptTime(std::optional<TimePoint>& t) {
    if (Lit("null")) return true;
    std::int64_t v;
    if (!Int(v)) return false;
    t = FromUnixMillis(v);
    return true;
  }
  bool Done() const { return s_.empty(); }

 private:
  std::string_view s_;
};

namespace {

bool FastDayFromJson(std::string_view text, ChildDay& day) {
  DayScanner sc(text);
  if (!sc.Lit("{\"v\":[")) return false;
  while (!sc.Peek(']')) {
    if (!day.visits.empty() && !sc.Lit(",")) return false;
    Visit v;
    std::int64_t flags;
    if (!sc.Lit("[") || !sc.OptTime(v.arrival) || !sc.Lit(",") || !sc.OptTime(v.departure) ||
        !sc.Lit(",") || !sc.Int(flags) || !sc.Lit("]")) {
      return false;
    }
    v.inferred = (flags & 1) != 0;
    v.corrected = (flags & 2) != 0;
    v.departure_unknown = (flags & 4) != 0;
    day.visits.push_back(v);
  }
  if (!sc.Lit("],\"t\":[")) return false;
  while (!sc.Peek(']')) {
    if (!day.accepted_taps.empty() && !sc.Lit(",")) return false;
    std::int64_t t;
    if (!sc.Int(t)) return false;
    day.accepted_taps.push_back(FromUnixMillis(t));
  }
  std::int64_t c;
  if (!sc.Lit("],\"c\":") || !sc.Int(c) || !sc.Lit("}") || !sc.Done()) return false;
  day.closing_alerted = c != 0;
  return true;
}

}  // namespace

Result<ChildDay> DecodeChildDay(const LocalDate& date, std::string_view text) {
  ChildDay day;
  day.date = date;
  if (FastDayFromJson(text, day)) return day;
  day = ChildDay{};
  day.date = date;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return Status::InvalidArgument("child_days.state: not a JSON object");
  try {
    for (const auto& v : j.at("v")) {
      Visit visit;
      if (!v.at(0).is_null()) visit.arrival = FromUnixMillis(v.at(0).get<std::int64_t>());
      if (!v.at(1).is_null()) visit.departure = FromUnixMillis(v.at(1).get<std::int64_t>());
      int flags = v.at(2).get<int>();
      visit.inferred = (flags & 1) != 0;
      visit.corrected = (flags & 2) != 0;
      visit.departure_unknown = (flags & 4) != 0;
      day.visits.push_back(visit);
    }
    for (const auto& t : j.at("t"))
      day.accepted_taps.push_back(FromUnixMillis(t.get<std::int64_t>()));
    day.closing_alerted = j.at("c").get<int>() != 0;
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(std::string("child_days.state: ") + e.what());
  }
  return day;
}

}  // namespace anshin
