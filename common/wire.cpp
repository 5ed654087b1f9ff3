#include "common/wire.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

namespace anshin::wire {
namespace {

using json = nlohmann::json;

Status FieldError(const std::string& field, const std::string& why) {
  return Status::InvalidArgument(field + ": " + why);
}

// Strict accessors: each names the field it failed on.
class Obj {
 public:
  Obj(const json& j, std::string path) : j_(j), path_(std::move(path)) {}

  std::string Path(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }
  bool Has(std::string_view key) const { return j_.contains(key); }

  Result<std::string> Str(std::string_view key, size_t max_bytes, bool required = true) const {
    auto it = j_.find(key);
    if (it == j_.end()) {
      if (required) return FieldError(Path(key), "missing");
      return std::string();
    }
    if (!it->is_string()) return FieldError(Path(key), "expected a string");
    const auto& s = it->get_ref<const std::string&>();
    if (s.size() > max_bytes)
      return FieldError(Path(key), "longer than " + std::to_string(max_bytes) + " bytes");
    for (unsigned char c : s) {
      if (c < 0x20 || c == 0x7f) return FieldError(Path(key), "contains a control character");
    }
    return s;
  }

  Result<std::uint64_t> U64(std::string_view key, bool required = true) const {
    auto it = j_.find(key);
    if (it == j_.end()) {
      if (required) return FieldError(Path(key), "missing");
      return std::uint64_t{0};
    }
    if (!it->is_number_unsigned() && !(it->is_number_integer() && it->get<std::int64_t>() >= 0)) {
      return FieldError(Path(key), "expected a non-negative integer");
    }
    const std::uint64_t value = it->get<std::uint64_t>();
    if (value > kMaxInteger) {
      return FieldError(Path(key),
                        "must be at most " + std::to_string(kMaxInteger) + " (2^53 - 1)");
    }
    return value;
  }

  Result<TimePoint> Time(std::string_view key) const {
    auto s = Str(key, 64);
    if (!s.ok()) return s.status();
    auto t = ParseRfc3339(*s);
    if (!t.ok()) return FieldError(Path(key), t.status().message());
    return t;
  }

  Status Known(std::initializer_list<std::string_view> keys) const {
    for (auto it = j_.begin(); it != j_.end(); ++it) {
      bool ok = false;
      for (auto k : keys) ok = ok || it.key() == k;
      if (!ok) return FieldError(Path(it.key()), "unknown field");
    }
    return Status::Ok();
  }

 private:
  const json& j_;
  std::string path_;
};

// Follows the parser's callbacks to refuse what nlohmann's DOM parser would accept silently: a
// key given twice in one object (the last one would win) and deep nesting. It also keeps the
// path of the current value so the error names where the duplicate is.
class DocumentChecker {
 public:
  bool operator()(int depth, json::parse_event_t event, json& parsed) {
    if (!error_.empty()) return false;
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (depth >= kMaxJsonDepth) {
          error_ = "body: nested deeper than " + std::to_string(kMaxJsonDepth) + " levels";
          return false;
        }
        frames_.push_back(Frame{event == json::parse_event_t::array_start, 0, {}, {}});
        return true;
      case json::parse_event_t::key: {
        Frame& top = frames_.back();
        top.key = parsed.get<std::string>();
        if (!top.keys.insert(top.key).second) {
          error_ = "body: duplicate key \"" + top.key + "\" at " + PathHere();
          return false;
        }
        return true;
      }
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        frames_.pop_back();
        ElementDone();
        return true;
      case json::parse_event_t::value:
        ElementDone();
        return true;
    }
    return true;
  }
  const std::string& error() const { return error_; }

 private:
  struct Frame {
    bool array = false;
    std::size_t index = 0;  // of the element being parsed, in an array
    std::string key;        // of the member being parsed, in an object
    std::set<std::string> keys;
  };
  void ElementDone() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
  }
  // "taps[0].seq": the path of the member or element being parsed.
  std::string PathHere() const {
    std::string path;
    for (const Frame& f : frames_) {
      if (f.array) {
        path += "[" + std::to_string(f.index) + "]";
      } else {
        if (!path.empty()) path += ".";
        path += f.key;
      }
    }
    return path.empty() ? "body" : path;
  }

  std::vector<Frame> frames_;
  std::string error_;
};

// Only consulted after a failed parse: keeps the parser's own diagnosis.
struct ErrorSax : json::json_sax_t {
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t position, const std::string& last_token,
                   const nlohmann::detail::exception& ex) override {
    byte = position;
    token = last_token;
    what = ex.what();
    return false;
  }
  std::size_t byte = 0;
  std::string token;
  std::string what;
};

Status SyntaxError(std::string_view text) {
  ErrorSax sax;
  json::sax_parse(text, &sax);
  if (sax.what.find("; expected end of input") != std::string::npos) {
    return Status::InvalidArgument("body: unexpected bytes after the JSON document at byte " +
                                   std::to_string(sax.byte));
  }
  return Status::InvalidArgument("body: not valid JSON (at byte " + std::to_string(sax.byte) + ")");
}

Result<json> ParseObject(std::string_view text) {
  // nlohmann's lexer takes a NUL byte for the end of the input, so "{...}\0garbage" would pass.
  // JSON text never holds a raw NUL (inside strings it must be escaped).
  if (auto nul = text.find('\0'); nul != std::string_view::npos) {
    return Status::InvalidArgument("body: unexpected bytes after the JSON document at byte " +
                                   std::to_string(nul));
  }
  DocumentChecker checker;
  json j = json::parse(
      text, [&checker](int depth, json::parse_event_t e, json& v) { return checker(depth, e, v); },
      /*allow_exceptions=*/false);
  if (!checker.error().empty()) return Status::InvalidArgument(checker.error());
  if (j.is_discarded()) return SyntaxError(text);
  if (!j.is_object()) return Status::InvalidArgument("body: expected a JSON object");
  return j;
}

Result<Tap> ParseTap(const json& j, const std::string& path) {
  if (!j.is_object()) return FieldError(path, "expected an object");
  Obj o(j, path);
  ANSHIN_RETURN_IF_ERROR(o.Known({"seq", "card", "at", "reader", "direction"}));
  Tap t;
  ANSHIN_ASSIGN_OR_RETURN(t.seq, o.U64("seq"));
  if (t.seq == 0) return FieldError(o.Path("seq"), "must be at least 1");
  ANSHIN_ASSIGN_OR_RETURN(std::string card, o.Str("card", 64));
  auto token = CardToken::Parse(card);
  if (!token.ok()) return FieldError(o.Path("card"), token.status().message());
  t.card = *token;
  ANSHIN_ASSIGN_OR_RETURN(t.at, o.Time("at"));
  ANSHIN_ASSIGN_OR_RETURN(t.reader, o.Str("reader", kMaxReaderNameBytes));
  if (t.reader.empty()) return FieldError(o.Path("reader"), "must not be empty");
  ANSHIN_ASSIGN_OR_RETURN(std::string dir, o.Str("direction", 16, /*required=*/false));
  if (!dir.empty()) {
    auto d = ParseDirection(dir);
    if (!d.ok()) return FieldError(o.Path("direction"), d.status().message());
    t.direction = *d;
  }
  return t;
}

json HealthJson(const Health& h) {
  json j = json::object();
  if (!h.reader_state.empty()) j["reader_state"] = h.reader_state;
  if (!h.reader_error.empty()) j["reader_error"] = h.reader_error;
  j["queue_depth"] = h.queue_depth;
  if (h.oldest_unsent_s) j["oldest_unsent_s"] = *h.oldest_unsent_s;
  if (!h.agent_version.empty()) j["agent_version"] = h.agent_version;
  if (h.local_clock) j["local_clock"] = FormatRfc3339(*h.local_clock);
  j["unknown_taps"] = h.unknown_taps;
  j["rejected_batches"] = h.rejected_batches;
  if (h.rejected_taps != 0) j["rejected_taps"] = h.rejected_taps;
  if (!h.last_upload_error.empty()) j["last_upload_error"] = h.last_upload_error;
  return j;
}

Result<Health> HealthFrom(const json& j, const std::string& path) {
  if (!j.is_object()) return FieldError(path, "expected an object");
  Obj o(j, path);
  ANSHIN_RETURN_IF_ERROR(o.Known({"reader_state", "reader_error", "queue_depth", "oldest_unsent_s",
                                  "agent_version", "local_clock", "unknown_taps",
                                  "rejected_batches", "rejected_taps", "last_upload_error"}));
  Health h;
  ANSHIN_ASSIGN_OR_RETURN(h.reader_state, o.Str("reader_state", 32, false));
  ANSHIN_ASSIGN_OR_RETURN(h.reader_error, o.Str("reader_error", 512, false));
  ANSHIN_ASSIGN_OR_RETURN(h.queue_depth, o.U64("queue_depth", false));
  if (o.Has("oldest_unsent_s")) {
    ANSHIN_ASSIGN_OR_RETURN(std::uint64_t age, o.U64("oldest_unsent_s"));
    h.oldest_unsent_s = static_cast<std::int64_t>(age);
  }
  ANSHIN_ASSIGN_OR_RETURN(h.agent_version, o.Str("agent_version", 64, false));
  if (o.Has("local_clock")) {
    ANSHIN_ASSIGN_OR_RETURN(h.local_clock, o.Time("local_clock"));
  }
  ANSHIN_ASSIGN_OR_RETURN(h.unknown_taps, o.U64("unknown_taps", false));
  ANSHIN_ASSIGN_OR_RETURN(h.rejected_batches, o.U64("rejected_batches", false));
  ANSHIN_ASSIGN_OR_RETURN(h.rejected_taps, o.U64("rejected_taps", false));
  ANSHIN_ASSIGN_OR_RETURN(h.last_upload_error, o.Str("last_upload_error", 512, false));
  return h;
}

// An error body: its messages may quote bytes of the request, cut anywhere, so text that is not
// UTF-8 is written with U+FFFD instead of making dump() throw (a refusal must always be sent).
std::string DumpMessage(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

Result<TapBatch> ParseTapBatch(std::string_view text) {
  if (text.size() > kMaxBodyBytes)
    return Status::TooLarge("body: over " + std::to_string(kMaxBodyBytes) + " bytes");
  ANSHIN_ASSIGN_OR_RETURN(json j, ParseObject(text));
  Obj o(j, "");
  ANSHIN_RETURN_IF_ERROR(o.Known({"agent", "sent_at", "taps", "health"}));
  TapBatch b;
  ANSHIN_ASSIGN_OR_RETURN(b.agent, o.Str("agent", kMaxAgentNameBytes));
  if (b.agent.empty()) return FieldError("agent", "must not be empty");
  ANSHIN_ASSIGN_OR_RETURN(b.sent_at, o.Time("sent_at"));
  auto taps = j.find("taps");
  if (taps == j.end()) return FieldError("taps", "missing");
  if (!taps->is_array()) return FieldError("taps", "expected an array");
  if (taps->size() > kMaxTapsPerBatch) {
    return Status::TooLarge("taps: more than " + std::to_string(kMaxTapsPerBatch) +
                            " taps in one batch");
  }
  b.taps.reserve(taps->size());
  for (size_t i = 0; i < taps->size(); ++i) {
    std::string path = "taps[" + std::to_string(i) + "]";
    ANSHIN_ASSIGN_OR_RETURN(Tap t, ParseTap((*taps)[i], path));
    if (!b.taps.empty() && t.seq <= b.taps.back().seq) {
      return FieldError(path + ".seq", "must be greater than the previous tap's seq");
    }
    b.taps.push_back(std::move(t));
  }
  if (auto h = j.find("health"); h != j.end() && !h->is_null()) {
    ANSHIN_ASSIGN_OR_RETURN(b.health, HealthFrom(*h, "health"));
  }
  return b;
}

std::string Serialize(const TapBatch& b) {
  json j;
  j["agent"] = b.agent;
  j["sent_at"] = FormatRfc3339(b.sent_at);
  json taps = json::array();
  for (const Tap& t : b.taps) {
    taps.push_back({{"seq", t.seq},
                    {"card", t.card.hex()},
                    {"at", FormatRfc3339(t.at)},
                    {"reader", t.reader},
                    {"direction", DirectionName(t.direction)}});
  }
  j["taps"] = std::move(taps);
  if (b.health) j["health"] = HealthJson(*b.health);
  return j.dump();
}

Result<TapAck> ParseTapAck(std::string_view text) {
  ANSHIN_ASSIGN_OR_RETURN(json j, ParseObject(text));
  Obj o(j, "");
  TapAck a;
  ANSHIN_ASSIGN_OR_RETURN(a.acked_through, o.U64("acked_through"));
  ANSHIN_ASSIGN_OR_RETURN(a.allowlist_version, o.U64("allowlist_version"));
  ANSHIN_ASSIGN_OR_RETURN(a.server_time, o.Time("server_time"));
  if (auto g = j.find("gap"); g != j.end() && !g->is_null()) {
    if (!g->is_object()) return FieldError("gap", "expected an object");
    Obj go(*g, "gap");
    SeqGap gap;
    ANSHIN_ASSIGN_OR_RETURN(gap.from, go.U64("from"));
    ANSHIN_ASSIGN_OR_RETURN(gap.to, go.U64("to"));
    a.gap = gap;
  }
  if (auto r = j.find("rejected"); r != j.end() && !r->is_null()) {
    if (!r->is_array()) return FieldError("rejected", "expected an array");
    if (r->size() > kMaxTapsPerBatch) {
      return FieldError("rejected", "more than " + std::to_string(kMaxTapsPerBatch) + " taps");
    }
    for (std::size_t i = 0; i < r->size(); ++i) {
      const std::string path = "rejected[" + std::to_string(i) + "]";
      if (!(*r)[i].is_object()) return FieldError(path, "expected an object");
      Obj ro((*r)[i], path);
      RejectedTap t;
      ANSHIN_ASSIGN_OR_RETURN(t.seq, ro.U64("seq"));
      ANSHIN_ASSIGN_OR_RETURN(t.field, ro.Str("field", 64, false));
      ANSHIN_ASSIGN_OR_RETURN(t.error, ro.Str("error", 512));
      a.rejected.push_back(std::move(t));
    }
  }
  return a;
}

std::string Serialize(const TapAck& a) {
  json j;
  j["acked_through"] = a.acked_through;
  j["allowlist_version"] = a.allowlist_version;
  j["server_time"] = FormatRfc3339(a.server_time);
  if (a.gap) j["gap"] = {{"from", a.gap->from}, {"to", a.gap->to}};
  if (!a.rejected.empty()) {
    json rejected = json::array();
    for (const RejectedTap& t : a.rejected) {
      rejected.push_back({{"seq", t.seq},
                          {"field", t.field},
                          {"error", t.error},
                          {"status", std::string(CodeName(Status::Code::kInvalidArgument))}});
    }
    j["rejected"] = std::move(rejected);
  }
  return j.dump();
}

Result<AllowlistDelta> ParseAllowlistDelta(std::string_view text) {
  ANSHIN_ASSIGN_OR_RETURN(json j, ParseObject(text));
  Obj o(j, "");
  AllowlistDelta d;
  ANSHIN_ASSIGN_OR_RETURN(d.version, o.U64("version"));
  if (auto f = j.find("full"); f != j.end()) {
    if (!f->is_boolean()) return FieldError("full", "expected true or false");
    d.full = f->get<bool>();
  }
  for (auto [key, out] : {std::pair{"added", &d.added}, std::pair{"removed", &d.removed},
                          std::pair{"lost", &d.lost}}) {
    auto it = j.find(key);
    if (it == j.end()) continue;
    if (!it->is_array()) return FieldError(key, "expected an array");
    out->reserve(it->size());
    for (size_t i = 0; i < it->size(); ++i) {
      std::string path = std::string(key) + "[" + std::to_string(i) + "]";
      if (!(*it)[i].is_string()) return FieldError(path, "expected a string");
      auto t = CardToken::Parse((*it)[i].get_ref<const std::string&>());
      if (!t.ok()) return FieldError(path, t.status().message());
      out->push_back(*t);
    }
  }
  for (std::size_t i = 0; i < d.lost.size(); ++i) {
    if (std::find(d.added.begin(), d.added.end(), d.lost[i]) == d.added.end()) {
      return FieldError("lost[" + std::to_string(i) + "]", "a lost card must also be in added");
    }
  }
  return d;
}

std::string Serialize(const AllowlistDelta& d) {
  json j;
  j["version"] = d.version;
  j["full"] = d.full;
  json added = json::array(), removed = json::array(), lost = json::array();
  for (const auto& t : d.added) added.push_back(t.hex());
  for (const auto& t : d.removed) removed.push_back(t.hex());
  for (const auto& t : d.lost) lost.push_back(t.hex());
  j["added"] = std::move(added);
  j["removed"] = std::move(removed);
  j["lost"] = std::move(lost);
  return j.dump();
}

std::string Serialize(const Health& h) { return HealthJson(h).dump(); }

Result<Health> ParseHealth(std::string_view text) {
  ANSHIN_ASSIGN_OR_RETURN(json j, ParseObject(text));
  return HealthFrom(j, "health");
}

std::string ErrorJson(const Status& s) {
  json j;
  std::string msg = s.message();
  j["error"] = msg;
  if (s.code() == Status::Code::kInvalidArgument || s.code() == Status::Code::kTooLarge ||
      s.code() == Status::Code::kConflict) {
    // "taps[3].at: not an RFC 3339 time" -> field "taps[3].at"
    auto colon = msg.find(": ");
    if (colon != std::string::npos && msg.find(' ') > colon) j["field"] = msg.substr(0, colon);
  }
  j["status"] = std::string(CodeName(s.code()));
  return DumpMessage(j);
}

std::string OpaqueErrorJson(Status::Code code, std::string_view public_message,
                            std::string_view error_id) {
  json j;
  j["error"] = public_message;
  j["status"] = std::string(CodeName(code));
  j["error_id"] = error_id;
  return DumpMessage(j);
}

}  // namespace anshin::wire
