#include "common/day_codec.hpp"

#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>

#include <nlohmann/json.hpp>

namespace anshin {
namespace {

constexpr int kInferred = 1;
constexpr int kCorrected = 2;
constexpr int kDepartureUnknown = 4;
constexpr std::int64_t kAllFlags = kInferred | kCorrected | kDepartureUnknown;

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

int FlagsOf(const Visit& v) {
  return (v.inferred ? kInferred : 0) | (v.corrected ? kCorrected : 0) |
         (v.departure_unknown ? kDepartureUnknown : 0);
}

void SetFlags(Visit& v, std::int64_t flags) {
  v.inferred = (flags & kInferred) != 0;
  v.corrected = (flags & kCorrected) != 0;
  v.departure_unknown = (flags & kDepartureUnknown) != 0;
}

// A strict reader of exactly what EncodeChildDay writes.
class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}
  bool Lit(std::string_view lit) {
    if (s_.substr(0, lit.size()) != lit) return false;
    s_.remove_prefix(lit.size());
    return true;
  }
  bool Peek(char c) const { return !s_.empty() && s_.front() == c; }
  // A JSON integer: no leading zeros ("007" is not JSON, so the JSON reader would refuse it).
  bool Int(std::int64_t& v) {
    const std::size_t sign = Peek('-') ? 1 : 0;
    if (s_.size() > sign + 1 && s_[sign] == '0' && s_[sign + 1] >= '0' && s_[sign + 1] <= '9')
      return false;
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

bool ScanChildDay(std::string_view text, ChildDay& day) {
  Scanner sc(text);
  if (!sc.Lit("{\"v\":[")) return false;
  while (!sc.Peek(']')) {
    if (!day.visits.empty() && !sc.Lit(",")) return false;
    Visit v;
    std::int64_t flags;
    if (!sc.Lit("[") || !sc.OptTime(v.arrival) || !sc.Lit(",") || !sc.OptTime(v.departure) ||
        !sc.Lit(",") || !sc.Int(flags) || !sc.Lit("]") || flags < 0 || flags > kAllFlags) {
      return false;
    }
    SetFlags(v, flags);
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
  if (!sc.Lit("],\"c\":") || !sc.Int(c) || !sc.Lit("}") || !sc.Done() || (c != 0 && c != 1))
    return false;
  day.closing_alerted = c == 1;
  return true;
}

// The general reader: the same document in any JSON spelling. Checks every type before reading
// it, so that nlohmann::json never throws.
class JsonReader {
 public:
  Status Read(const nlohmann::json& j, ChildDay& day) {
    if (!j.is_object()) return Bad("not a JSON object");
    const nlohmann::json* visits = Member(j, "v");
    const nlohmann::json* taps = Member(j, "t");
    const nlohmann::json* closing = Member(j, "c");
    if (visits == nullptr || !visits->is_array()) return Bad("\"v\" is not an array");
    if (taps == nullptr || !taps->is_array()) return Bad("\"t\" is not an array");
    std::size_t n = 0;
    for (const nlohmann::json& v : *visits) {
      std::string where = "visit " + std::to_string(++n);
      if (!v.is_array() || v.size() != 3) return Bad(where + " is not [arrival,departure,flags]");
      Visit visit;
      ANSHIN_RETURN_IF_ERROR(OptTime(v[0], where + " arrival", visit.arrival));
      ANSHIN_RETURN_IF_ERROR(OptTime(v[1], where + " departure", visit.departure));
      std::int64_t flags;
      ANSHIN_RETURN_IF_ERROR(Int(v[2], where + " flags", flags));
      if (flags < 0 || flags > kAllFlags) return Bad(where + " flags are not 0..7");
      SetFlags(visit, flags);
      day.visits.push_back(visit);
    }
    n = 0;
    for (const nlohmann::json& t : *taps) {
      std::int64_t ms;
      ANSHIN_RETURN_IF_ERROR(Int(t, "tap " + std::to_string(++n), ms));
      day.accepted_taps.push_back(FromUnixMillis(ms));
    }
    std::int64_t c;
    if (closing == nullptr) return Bad("\"c\" is missing");
    ANSHIN_RETURN_IF_ERROR(Int(*closing, "\"c\"", c));
    if (c != 0 && c != 1) return Bad("\"c\" is not 0 or 1");
    day.closing_alerted = c == 1;
    return Status::Ok();
  }

 private:
  static Status Bad(std::string_view what) {
    return Status::InvalidArgument("day state: " + std::string(what));
  }
  static const nlohmann::json* Member(const nlohmann::json& j, const char* key) {
    auto it = j.find(key);
    return it == j.end() ? nullptr : &*it;
  }
  static Status Int(const nlohmann::json& j, const std::string& what, std::int64_t& out) {
    if (j.is_number_unsigned()) {
      auto u = j.get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return Bad(what + " is out of range");
      out = static_cast<std::int64_t>(u);
      return Status::Ok();
    }
    if (!j.is_number_integer()) return Bad(what + " is not an integer");
    out = j.get<std::int64_t>();
    return Status::Ok();
  }
  static Status OptTime(const nlohmann::json& j, const std::string& what,
                        std::optional<TimePoint>& out) {
    if (j.is_null()) return Status::Ok();
    std::int64_t ms;
    ANSHIN_RETURN_IF_ERROR(Int(j, what, ms));
    out = FromUnixMillis(ms);
    return Status::Ok();
  }
};

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
    AppendInt(out, FlagsOf(v));
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

Result<ChildDay> DecodeChildDay(const LocalDate& date, std::string_view text) {
  ChildDay day;
  day.date = date;
  if (ScanChildDay(text, day)) return day;
  day = ChildDay{};
  day.date = date;
  // nlohmann::json reads a NUL byte as the end of the input; the text ends where it ends.
  if (text.find('\0') != std::string_view::npos)
    return Status::InvalidArgument("day state: contains a NUL byte");
  // allow_exceptions = false: invalid JSON gives a discarded value instead of throwing.
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument("day state: not valid JSON");
  ANSHIN_RETURN_IF_ERROR(JsonReader().Read(j, day));
  return day;
}

}  // namespace anshin
