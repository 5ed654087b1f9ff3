#include "notify-server/store/sqlite_store.hpp"

#include <sodium.h>

#include <charconv>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "notify-server/store/sqlite_schema.hpp"

namespace anshin::store {
namespace {

constexpr const char* kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

std::string Hex(const unsigned char* p, size_t n) {
  std::string out(n * 2, '\0');
  sodium_bin2hex(out.data(), out.size() + 1, p, n);
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(h, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  return Hex(h, sizeof h);
}

// Keyed with a domain label so a code hash and a link hash can never be confused.
std::string SecretHash(std::string_view label, std::string_view secret) {
  unsigned char h[32];
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, sizeof h);
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(label.data()),
                            label.size());
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>("\0"), 1);
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(secret.data()),
                            secret.size());
  crypto_generichash_final(&st, h, sizeof h);
  return Hex(h, sizeof h);
}

std::string CodeHash(GuardianId g, std::string_view code) {
  return SecretHash("code:" + g.ToString(), code);
}
std::string LinkHash(std::string_view token) { return SecretHash("link", token); }

std::string AuditHash(const std::string& prev, std::int64_t at, std::string_view actor,
                      std::string_view action, std::string_view detail) {
  std::string content = prev;
  content += '\n';
  content += std::to_string(at);
  content += '\n';
  content += actor;
  content += '\n';
  content += action;
  content += '\n';
  content += detail;
  return Sha256Hex(content);
}

Status AppendAuditOn(Db& db, const Actor& who, std::string_view action, std::string_view detail) {
  std::string prev = kGenesisHash;
  {
    ANSHIN_ASSIGN_OR_RETURN(Query q,
                            db.Prepare("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1"));
    ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (row) prev = q.Text(0);
  }
  std::int64_t at = ToUnixMillis(who.at);
  std::string hash = AuditHash(prev, at, who.user, action, detail);
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db.Prepare("INSERT INTO audit_log(at, actor, action, detail, prev_hash, hash) "
                          "VALUES (?, ?, ?, ?, ?, ?)"));
  q.Bind(1, at).Bind(2, who.user).Bind(3, action).Bind(4, detail).Bind(5, prev).Bind(6, hash);
  return q.Run();
}

// ---- row mapping -------------------------------------------------------------------------

#define ANSHIN_FACILITY_COLS                                                               \
  "id, code, name, tz_name, double_tap_window_s, departure_from_s, departure_margin_min, " \
  "closing_time_s, closing_grace_min, late_after_s, opens_s, closes_s"

Facility ReadFacility(const Query& q) {
  Facility f;
  f.id = FacilityId{q.Int(0)};
  f.code = q.Text(1);
  f.name = q.Text(2);
  f.tz_name = q.Text(3);
  f.rules.double_tap_window = Seconds(q.Int(4));
  f.rules.departure_from = LocalTime{static_cast<int>(q.Int(5))};
  f.rules.departure_margin = Minutes(q.Int(6));
  f.rules.closing_time = LocalTime{static_cast<int>(q.Int(7))};
  f.rules.closing_grace = Minutes(q.Int(8));
  f.rules.late_after = Seconds(q.Int(9));
  f.opens = LocalTime{static_cast<int>(q.Int(10))};
  f.closes = LocalTime{static_cast<int>(q.Int(11))};
  return f;
}

void BindFacility(Query& q, const Facility& f) {
  q.Bind(1, f.code).Bind(2, f.name).Bind(3, f.tz_name);
  q.Bind(4, static_cast<std::int64_t>(f.rules.double_tap_window.count()));
  q.Bind(5, f.rules.departure_from.seconds);
  q.Bind(6, static_cast<std::int64_t>(f.rules.departure_margin.count()));
  q.Bind(7, f.rules.closing_time.seconds);
  q.Bind(8, static_cast<std::int64_t>(f.rules.closing_grace.count()));
  q.Bind(9, static_cast<std::int64_t>(f.rules.late_after.count()));
  q.Bind(10, f.opens.seconds);
  q.Bind(11, f.closes.seconds);
}

#define ANSHIN_AGENT_COLS                                                                \
  "id, name, facility_id, cert_sha256, status, enrolled_at, last_contact, last_health, " \
  "skew_ms, acked_through, gap_from, gap_to"

Result<Agent> ReadAgent(const Query& q) {
  Agent a;
  a.id = AgentId{q.Int(0)};
  a.name = q.Text(1);
  a.facility = FacilityId{q.Int(2)};
  a.cert_sha256 = q.Text(3);
  ANSHIN_ASSIGN_OR_RETURN(a.status, ParseAgentStatus(q.TextView(4)));
  a.enrolled_at = FromUnixMillis(q.Int(5));
  if (auto t = q.OptInt(6)) a.last_contact = FromUnixMillis(*t);
  a.last_health_json = q.Text(7);
  a.skew_ms = q.Int(8);
  a.acked_through = static_cast<std::uint64_t>(q.Int(9));
  if (!q.IsNull(10)) {
    a.gap =
        wire::SeqGap{static_cast<std::uint64_t>(q.Int(10)), static_cast<std::uint64_t>(q.Int(11))};
  }
  return a;
}

#define ANSHIN_TAP_COLS                                                                     \
  "seq, card_token, facility_id, reader, direction, tapped_at, corrected_at, received_at, " \
  "reason, child_id, late"

Result<TapRecord> ReadTap(const Query& q, AgentId agent) {
  TapRecord t;
  t.agent = agent;
  t.seq = static_cast<std::uint64_t>(q.Int(0));
  ANSHIN_ASSIGN_OR_RETURN(t.card, CardToken::Parse(q.TextView(1)));
  t.facility = FacilityId{q.Int(2)};
  t.reader = q.Text(3);
  ANSHIN_ASSIGN_OR_RETURN(t.direction, ParseDirection(q.TextView(4)));
  t.tapped_at = FromUnixMillis(q.Int(5));
  t.corrected_at = FromUnixMillis(q.Int(6));
  t.received_at = FromUnixMillis(q.Int(7));
  ANSHIN_ASSIGN_OR_RETURN(t.reason, ParseReason(q.TextView(8)));
  if (auto c = q.OptInt(9)) t.child = ChildId{*c};
  t.late = q.Int(10) != 0;
  return t;
}

#define ANSHIN_GUARDIAN_COLS \
  "id, child_id, email, verified, wants_arrival, wants_departure, charset, bouncing"

Result<Guardian> ReadGuardian(const Query& q) {
  Guardian g;
  g.id = GuardianId{q.Int(0)};
  g.child = ChildId{q.Int(1)};
  g.email = q.Text(2);
  g.verified = q.Int(3) != 0;
  g.wants_arrival = q.Int(4) != 0;
  g.wants_departure = q.Int(5) != 0;
  ANSHIN_ASSIGN_OR_RETURN(g.charset, ParseCharset(q.TextView(6)));
  g.bouncing = q.Int(7) != 0;
  return g;
}

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

std::string DayToJson(const ChildDay& day) {
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

Result<ChildDay> DayFromJson(const LocalDate& date, std::string_view text) {
  ChildDay day;
  day.date = date;
  if (FastDayFromJson(text, day)) return day;
  day = ChildDay{};
  day.date = date;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return Status::Internal("child_days.state: not a JSON object");
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
    return Status::Internal(std::string("child_days.state: ") + e.what());
  }
  return day;
}

bool HasOpenVisit(const ChildDay& day) {
  for (const Visit& v : day.visits) {
    if (v.open()) return true;
  }
  return false;
}

Status CheckEmail(std::string_view email) {
  if (email.size() < 3 || email.size() > 254)
    return Status::InvalidArgument("email: length out of range");
  for (char c : email) {
    if (c == '\r' || c == '\n') return Status::InvalidArgument("email: contains a line break");
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f)
      return Status::InvalidArgument("email: contains a space or non-ASCII character");
    if (c == '<' || c == '>' || c == ',' || c == ';' || c == '"' || c == '(' || c == ')' ||
        c == '\\') {
      return Status::InvalidArgument("email: contains a character not allowed in an address");
    }
  }
  auto at = email.find('@');
  if (at == std::string_view::npos || at == 0 ||
      email.find('@', at + 1) != std::string_view::npos) {
    return Status::InvalidArgument("email: expected exactly one @ after a non-empty local part");
  }
  std::string_view domain = email.substr(at + 1);
  if (domain.find('.') == std::string_view::npos || domain.front() == '.' || domain.back() == '.' ||
      domain.find("..") != std::string_view::npos) {
    return Status::InvalidArgument("email: malformed domain");
  }
  return Status::Ok();
}

std::string NewCode() {
  std::string code = std::to_string(randombytes_uniform(1000000));
  return std::string(6 - code.size(), '0') + code;
}

std::string NewLinkToken() {
  unsigned char b[16];
  randombytes_buf(b, sizeof b);
  return Hex(b, sizeof b);
}

Status NotFoundUnless(bool row, std::string what) {
  return row ? Status::Ok() : Status::NotFound(std::move(what));
}

Result<std::uint64_t> CurrentAllowlistVersion(Db& db) {
  ANSHIN_ASSIGN_OR_RETURN(Query q,
                          db.Prepare("SELECT COALESCE(MAX(version), 0) FROM allowlist_changes"));
  ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
  (void)row;
  return static_cast<std::uint64_t>(q.Int(0));
}

Status AllowlistChange(Db& db, const CardToken& token, std::string_view op, TimePoint at) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db.Prepare("INSERT INTO allowlist_changes(token, op, at) VALUES (?, ?, ?)"));
  q.Bind(1, token.hex()).Bind(2, op).Bind(3, ToUnixMillis(at));
  return q.Run();
}

// Issues a fresh code and link for guardian `g`, applies the per-day send limit, and queues
// the verification mail. Runs inside the caller's write transaction.
Result<VerificationTicket> IssueVerification(Db& db, GuardianId g, TimePoint now) {
  std::optional<std::int64_t> window_start;
  std::int64_t sends = 0;
  ChildId child;
  FacilityId facility;
  {
    ANSHIN_ASSIGN_OR_RETURN(
        Query q, db.Prepare("SELECT g.sends_window_start, g.sends_in_window, g.child_id, "
                            "c.facility_id FROM guardians g JOIN children c ON c.id = "
                            "g.child_id WHERE g.id = ?"));
    q.Bind(1, g.value);
    ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
    ANSHIN_RETURN_IF_ERROR(NotFoundUnless(row, "guardian " + g.ToString()));
    window_start = q.OptInt(0);
    sends = q.Int(1);
    child = ChildId{q.Int(2)};
    facility = FacilityId{q.Int(3)};
  }
  const std::int64_t now_ms = ToUnixMillis(now);
  if (!window_start || now_ms - *window_start >= 24 * 3600 * 1000) {
    window_start = now_ms;
    sends = 0;
  }
  if (sends >= kMaxVerificationSendsPerDay) {
    return Status::ResourceExhausted("guardian " + g.ToString() +
                                     ": verification mail limit reached for today");
  }
  VerificationTicket t;
  t.guardian = g;
  t.code = NewCode();
  t.link_token = NewLinkToken();
  t.expires_at = now + kVerificationCodeLifetime;
  {
    ANSHIN_ASSIGN_OR_RETURN(Query q,
                            db.Prepare("UPDATE guardians SET code_hash = ?, code_expires_at = ?, "
                                       "code_attempts = 0, link_hash = ?, sends_window_start = ?, "
                                       "sends_in_window = ? WHERE id = ?"));
    std::string code_hash = CodeHash(g, t.code), link_hash = LinkHash(t.link_token);
    q.Bind(1, code_hash)
        .Bind(2, ToUnixMillis(t.expires_at))
        .Bind(3, link_hash)
        .Bind(4, *window_start);
    q.Bind(5, sends + 1).Bind(6, g.value);
    ANSHIN_RETURN_IF_ERROR(q.Run());
  }
  {
    // Earlier verification mails not yet sent would carry dead codes: drop their secrets.
    ANSHIN_ASSIGN_OR_RETURN(Query q,
                            db.Prepare("UPDATE outbox SET state = 'failed', last_error = "
                                       "'superseded by a newer verification mail', "
                                       "verification_code = NULL, link_token = NULL WHERE "
                                       "guardian_id = ? AND kind = 'verification' AND state IN "
                                       "('queued', 'retrying')"));
    q.Bind(1, g.value);
    ANSHIN_RETURN_IF_ERROR(q.Run());
  }
  ANSHIN_ASSIGN_OR_RETURN(Query q,
                          db.Prepare("INSERT INTO outbox(kind, guardian_id, child_id, facility_id, "
                                     "verification_code, link_token, next_attempt_at, created_at) "
                                     "VALUES ('verification', ?, ?, ?, ?, ?, ?, ?)"));
  q.Bind(1, g.value)
      .Bind(2, child.value)
      .Bind(3, facility.value)
      .Bind(4, t.code)
      .Bind(5, t.link_token);
  q.Bind(6, now_ms).Bind(7, now_ms);
  ANSHIN_RETURN_IF_ERROR(q.Run());
  t.outbox_id = db.LastInsertRowid();
  return t;
}

Status MarkVerified(Db& db, GuardianId g, TimePoint now) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db.Prepare("UPDATE guardians SET verified = 1, verified_at = ?, code_hash = "
                          "NULL, code_expires_at = NULL, code_attempts = 0, link_hash = "
                          "NULL WHERE id = ?"));
  q.Bind(1, ToUnixMillis(now)).Bind(2, g.value);
  return q.Run();
}

}  // namespace

// ---- the write transaction -----------------------------------------------------------------

class SqliteStore::Txn final : public WriteTxn {
 public:
  Txn(std::unique_lock<std::mutex> lock, Db& db) : lock_(std::move(lock)), db_(db) {}
  ~Txn() override {
    if (!done_) (void)db_.Exec("ROLLBACK");
  }

  Status Savepoint() override { return db_.Exec("SAVEPOINT batch"); }
  Status ReleaseSavepoint() override { return db_.Exec("RELEASE batch"); }
  Status RollbackSavepoint() override {
    ANSHIN_RETURN_IF_ERROR(db_.Exec("ROLLBACK TO batch"));
    return db_.Exec("RELEASE batch");
  }
  Status Commit() override {
    Status s = db_.Exec("COMMIT");
    if (s.ok()) done_ = true;
    return s;
  }

  Result<std::optional<Agent>> FindAgent(std::string_view name) override {
    ANSHIN_ASSIGN_OR_RETURN(Query q,
                            db_.Prepare("SELECT " ANSHIN_AGENT_COLS " FROM agents WHERE name = ?"));
    q.Bind(1, name);
    ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return std::optional<Agent>();
    ANSHIN_ASSIGN_OR_RETURN(Agent a, ReadAgent(q));
    return std::optional<Agent>(std::move(a));
  }

  Result<Facility> GetFacility(FacilityId id) override {
    ANSHIN_ASSIGN_OR_RETURN(
        Query q, db_.Prepare("SELECT " ANSHIN_FACILITY_COLS " FROM facilities WHERE id = ?"));
    q.Bind(1, id.value);
    ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
    ANSHIN_RETURN_IF_ERROR(NotFoundUnless(row, "facility " + id.ToString()));
    return ReadFacility(q);
  }

  Result<std::vector<Facility>> ListFacilities() override {
    ANSHIN_ASSIGN_OR_RETURN(
        Query q, db_.Prepare("SELECT " ANSHIN_FACILITY_COLS " FROM facilities ORDER BY id"));
    std::vector<Facility> out;
    ANSHIN_RETURN_IF_ERROR(q.ForEachRow([&] { out.push_back(ReadFacility(q)); }));
    return out;
  }

  Result<std::optional<TapRecord>> FindTap(AgentId agent, std::uint64_t seq) override {
    ANSHIN_ASSIGN_OR_RETURN(Query q, db_.Prepare("SELECT " ANSHIN_TAP_COLS
                                                 " FROM taps WHERE agent_id = ? AND seq = ?"));
    q.Bind(1, agent.value).Bind(2, seq);
    ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return std::optional<TapRecord>();
    ANSHIN_ASSIGN_OR_RETURN(TapRecord t, ReadTap(q, agent));
    return std::optional<TapRecord>(std::move(t));
  }

  Result<std::optional<CardInfo>> FindCard(const CardToken& token) override {
    ANSHIN_ASSIGN_OR_RETURN(Query q,
                            db_.Prepare("SELECT child_id, status FROM cards WHERE token = ?"));
    q.Bind(1, token.hex());
    ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return std::optional<CardInfo>();
    CardInfo info;
    info.child = ChildId{q.Int(0)};
    ANSHIN_ASSIGN_OR_RETURN(info.status, ParseCardStatus(q.TextView(1)));
    return std::optional<CardInfo>(info);
  }

  Result<ChildSchedule> GetSchedule(ChildId child) override {
    ANSHIN_ASSIGN_OR_RETURN(
        Query q, db_.Prepare("SELECT dep_sun_s, dep_mon_s, dep_tue_s, dep_wed_s, dep_thu_s, "
                             "dep_fri_s, dep_sat_s FROM children WHERE id = ?"));
    q.Bind(1, child.value);
    ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
    ANSHIN_RETURN_IF_ERROR(NotFoundUnless(row, "child " + child.ToString()));
    ChildSchedule s;
    for (int d = 0; d < 7; ++d) {
      if (auto v = q.OptInt(d)) s.expected_departure[d] = LocalTime{static_cast<int>(*v)};
    }
    return s;
  }

  Result<ChildDay> LoadChildDay(ChildId child, FacilityId facility,
                                const LocalDate& date) override {
    ANSHIN_ASSIGN_OR_RETURN(Query q,
                            db_.Prepare("SELECT state FROM child_days WHERE child_id = ? AND "
                                        "facility_id = ? AND date = ?"));
    std::string d = date.ToString();
    q.Bind(1, child.value).Bind(2, facility.value).Bind(3, d);
    ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) {
      ChildDay day;
      day.date = date;
      return day;
    }
    return DayFromJson(date, q.TextView(0));
  }

  Status SaveChildDay(ChildId child, FacilityId facility, const ChildDay& day) override {
    ANSHIN_ASSIGN_OR_RETURN(
        Query q, db_.Prepare("INSERT INTO child_days(child_id, facility_id, date, state, "
                             "open_visit, closing_alerted) VALUES (?, ?, ?, ?, ?, ?) "
                             "ON CONFLICT(child_id, facility_id, date) DO UPDATE SET "
                             "state = excluded.state, open_visit = excluded.open_visit, "
                             "closing_alerted = excluded.closing_alerted"));
    std::string d = day.date.ToString(), state = DayToJson(day);
    q.Bind(1, child.value).Bind(2, facility.value).Bind(3, d).Bind(4, state);
    q.Bind(5, HasOpenVisit(day)).Bind(6, day.closing_alerted);
    return q.Run();
  }

  Result<std::vector<OpenDay>> OpenDays(FacilityId facility, const LocalDate& date) override {
    ANSHIN_ASSIGN_OR_RETURN(
        Query q, db_.Prepare("SELECT child_id, state FROM child_days WHERE facility_id = ? "
                             "AND date = ? AND open_visit = 1 AND closing_alerted = 0"));
    std::string d = date.ToString();
    q.Bind(1, facility.value).Bind(2, d);
    std::vector<OpenDay> out;
    for (;;) {
      ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      ANSHIN_ASSIGN_OR_RETURN(ChildDay day, DayFromJson(date, q.TextView(1)));
      out.push_back(OpenDay{ChildId{q.Int(0)}, facility, std::move(day)});
    }
    return out;
  }

  Status InsertTap(const TapRecord& t) override {
    ANSHIN_ASSIGN_OR_RETURN(
        Query q, db_.Prepare("INSERT INTO taps(agent_id, seq, card_token, facility_id, reader, "
                             "direction, tapped_at, corrected_at, received_at, reason, "
                             "child_id, late) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    q.Bind(1, t.agent.value)
        .Bind(2, t.seq)
        .Bind(3, t.card.hex())
        .Bind(4, t.facility.value)
        .Bind(5, t.reader);
    q.Bind(6, DirectionName(t.direction))
        .Bind(7, ToUnixMillis(t.tapped_at))
        .Bind(8, ToUnixMillis(t.corrected_at));
    q.Bind(9, ToUnixMillis(t.received_at)).Bind(10, ReasonName(t.reason));
    if (t.child) {
      q.Bind(11, t.child->value);
    } else {
      q.BindNull(11);
    }
    q.Bind(12, t.late);
    return q.Run();
  }

  Result<std::vector<NoticeTarget>> NoticeTargets(ChildId child, NoticeKind kind) override {
    ANSHIN_ASSIGN_OR_RETURN(
        Query q, db_.Prepare("SELECT id FROM guardians WHERE child_id = ? AND verified = 1 AND "
                             "bouncing = 0 AND (CASE WHEN ? THEN wants_arrival ELSE "
                             "wants_departure END) = 1 ORDER BY id"));
    q.Bind(1, child.value).Bind(2, IsArrivalNotice(kind));
    std::vector<NoticeTarget> out;
    ANSHIN_RETURN_IF_ERROR(
        q.ForEachRow([&] { out.push_back(NoticeTarget{GuardianId{q.Int(0)}}); }));
    return out;
  }

  Result<std::int64_t> InsertOutbox(const NewOutboxRow& r) override {
    ANSHIN_ASSIGN_OR_RETURN(
        Query q, db_.Prepare("INSERT INTO outbox(kind, guardian_id, child_id, facility_id, "
                             "tap_at, arrival_at, late, next_attempt_at, created_at) VALUES "
                             "(?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    q.Bind(1, OutboxKindName(r.kind)).Bind(2, r.guardian.value);
    if (r.child)
      q.Bind(3, r.child->value);
    else
      q.BindNull(3);
    if (r.facility)
      q.Bind(4, r.facility->value);
    else
      q.BindNull(4);
    if (r.tap_at)
      q.Bind(5, ToUnixMillis(*r.tap_at));
    else
      q.BindNull(5);
    if (r.arrival_at)
      q.Bind(6, ToUnixMillis(*r.arrival_at));
    else
      q.BindNull(6);
    q.Bind(7, r.late).Bind(8, ToUnixMillis(r.created_at)).Bind(9, ToUnixMillis(r.created_at));
    ANSHIN_RETURN_IF_ERROR(q.Run());
    return db_.LastInsertRowid();
  }

  Result<std::int64_t> InsertAlert(const AlertRecord& a) override {
    ANSHIN_ASSIGN_OR_RETURN(
        Query q, db_.Prepare("INSERT INTO alerts(kind, facility_id, child_id, at, detail) "
                             "VALUES (?, ?, ?, ?, ?)"));
    q.Bind(1, AlertKindName(a.kind)).Bind(2, a.facility.value);
    if (a.child)
      q.Bind(3, a.child->value);
    else
      q.BindNull(3);
    q.Bind(4, ToUnixMillis(a.at)).Bind(5, a.detail);
    ANSHIN_RETURN_IF_ERROR(q.Run());
    return db_.LastInsertRowid();
  }

  Result<std::pair<std::uint64_t, std::optional<wire::SeqGap>>> ContiguousThrough(
      AgentId agent, std::uint64_t acked_through) override {
    // Walks the (agent_id, seq) index forward from acked_through; stops at the first hole.
    ANSHIN_ASSIGN_OR_RETURN(Query q,
                            db_.Prepare("SELECT seq FROM taps WHERE agent_id = ? AND seq > ? "
                                        "ORDER BY seq"));
    q.Bind(1, agent.value).Bind(2, acked_through);
    std::uint64_t end = acked_through;
    std::optional<wire::SeqGap> gap;
    for (;;) {
      ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      auto seq = static_cast<std::uint64_t>(q.Int(0));
      if (seq == end + 1) {
        end = seq;
        continue;
      }
      gap = wire::SeqGap{end + 1, seq - 1};
      break;
    }
    return std::make_pair(end, gap);
  }

  Status UpdateAgentContact(AgentId agent, TimePoint last_contact, std::int64_t skew_ms,
                            const std::optional<std::string>& health_json,
                            std::uint64_t acked_through,
                            const std::optional<wire::SeqGap>& gap) override {
    ANSHIN_ASSIGN_OR_RETURN(
        Query q, db_.Prepare("UPDATE agents SET last_contact = ?, skew_ms = ?, "
                             "last_health = COALESCE(?, last_health), acked_through = ?, "
                             "gap_from = ?, gap_to = ? WHERE id = ?"));
    q.Bind(1, ToUnixMillis(last_contact))
        .Bind(2, skew_ms)
        .Bind(3, health_json)
        .Bind(4, acked_through);
    if (gap) {
      q.Bind(5, gap->from).Bind(6, gap->to);
    } else {
      q.BindNull(5).BindNull(6);
    }
    q.Bind(7, agent.value);
    return q.Run();
  }

  Result<std::uint64_t> AllowlistVersion() override { return CurrentAllowlistVersion(db_); }

 private:
  std::unique_lock<std::mutex> lock_;
  Db& db_;
  bool done_ = false;
};

// ---- opening and migrations ----------------------------------------------------------------

int LatestSchemaVersion() { return SqliteMigrations().back().version; }

SqliteStore::SqliteStore(SqliteOptions options, std::unique_ptr<Db> writer,
                         std::unique_ptr<Db> reader)
    : options_(std::move(options)), writer_(std::move(writer)), reader_(std::move(reader)) {}

SqliteStore::~SqliteStore() = default;

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const SqliteOptions& options) {
  if (sodium_init() < 0) return Status::Internal("libsodium failed to initialize");
  Db::Options wo;
  wo.synchronous = options.synchronous;
  wo.busy_timeout_ms = options.busy_timeout_ms;
  ANSHIN_ASSIGN_OR_RETURN(auto writer, Db::Open(options.path, wo));
  // Migrate before the reader opens so it sees the final schema.
  std::unique_ptr<SqliteStore> store(new SqliteStore(options, std::move(writer), nullptr));
  ANSHIN_RETURN_IF_ERROR(store->Migrate());
  ANSHIN_ASSIGN_OR_RETURN(store->reader_, Db::Open(options.path, wo));
  // A restarted WAL is truncated to this size, so a burst does not leave a huge file behind.
  const std::string pragmas =
      "PRAGMA wal_autocheckpoint=" + std::to_string(options.wal_autocheckpoint_pages) +
      "; PRAGMA journal_size_limit=67108864";
  ANSHIN_RETURN_IF_ERROR(store->writer_->Exec(pragmas.c_str()));
  return store;
}

Status SqliteStore::Migrate() {
  std::lock_guard lock(write_mu_);
  Db& db = *writer_;
  ANSHIN_RETURN_IF_ERROR(
      db.Exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, "
              "applied_at INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * "
              "86400000 AS INTEGER)))"));
  for (const Migration& m : SqliteMigrations()) {
    ANSHIN_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
    Status s = [&]() -> Status {
      ANSHIN_ASSIGN_OR_RETURN(Query q,
                              db.Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_version"));
      ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
      (void)row;
      std::int64_t current = q.Int(0);
      if (current >= m.version) return Status::Ok();
      ANSHIN_RETURN_IF_ERROR(db.Exec(m.sql).WithContext("migration " + std::to_string(m.version)));
      ANSHIN_ASSIGN_OR_RETURN(Query ins,
                              db.Prepare("INSERT INTO schema_version(version) VALUES (?)"));
      ins.Bind(1, m.version);
      return ins.Run();
    }();
    if (!s.ok()) {
      (void)db.Exec("ROLLBACK");
      return s;
    }
    ANSHIN_RETURN_IF_ERROR(db.Exec("COMMIT"));
  }
  return Status::Ok();
}

Result<int> SqliteStore::SchemaVersion() {
  std::lock_guard lock(read_mu_);
  ANSHIN_ASSIGN_OR_RETURN(Query q,
                          reader_->Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_version"));
  ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
  (void)row;
  return static_cast<int>(q.Int(0));
}

template <typename Fn>
auto SqliteStore::Write(Fn&& fn) -> decltype(fn(std::declval<Db&>())) {
  std::lock_guard lock(write_mu_);
  ANSHIN_RETURN_IF_ERROR(writer_->Exec("BEGIN IMMEDIATE"));
  auto result = fn(*writer_);
  if (!result.ok()) {
    (void)writer_->Exec("ROLLBACK");
    return result;
  }
  Status s = writer_->Exec("COMMIT");
  if (!s.ok()) {
    (void)writer_->Exec("ROLLBACK");
    return s;
  }
  return result;
}

Result<std::unique_ptr<WriteTxn>> SqliteStore::BeginWrite() {
  std::unique_lock lock(write_mu_);
  ANSHIN_RETURN_IF_ERROR(writer_->Exec("BEGIN IMMEDIATE"));
  return std::unique_ptr<WriteTxn>(new Txn(std::move(lock), *writer_));
}

// ---- facilities --------------------------------------------------------------------------

Result<FacilityId> SqliteStore::AddFacility(const Facility& f, const Actor& who) {
  return Write([&](Db& db) -> Result<FacilityId> {
    ANSHIN_ASSIGN_OR_RETURN(
        Query q, db.Prepare("INSERT INTO facilities(code, name, tz_name, double_tap_window_s, "
                            "departure_from_s, departure_margin_min, closing_time_s, "
                            "closing_grace_min, late_after_s, opens_s, closes_s, created_at) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    BindFacility(q, f);
    q.Bind(12, ToUnixMillis(who.at));
    ANSHIN_RETURN_IF_ERROR(q.Run().WithContext("facility " + f.code));
    FacilityId id{db.LastInsertRowid()};
    ANSHIN_RETURN_IF_ERROR(
        AppendAuditOn(db, who, "facility.add", "facility=" + id.ToString() + " code=" + f.code));
    return id;
  });
}

Status SqliteStore::UpdateFacility(const Facility& f, const Actor& who) {
  return Write([&](Db& db) -> Status {
    ANSHIN_ASSIGN_OR_RETURN(
        Query q, db.Prepare("UPDATE facilities SET code = ?, name = ?, tz_name = ?, "
                            "double_tap_window_s = ?, departure_from_s = ?, "
                            "departure_margin_min = ?, closing_time_s = ?, closing_grace_min "
                            "= ?, late_after_s = ?, opens_s = ?, closes_s = ? WHERE id = ?"));
    BindFacility(q, f);
    q.Bind(12, f.id.value);
    ANSHIN_RETURN_IF_ERROR(q.Run());
    if (db.Changes() == 0) return Status::NotFound("facility " + f.id.ToString());
    return AppendAuditOn(db, who, "facility.set",
                         "facility=" + f.id.ToString() + " code=" + f.code);
  });
}

Result<Facility> SqliteStore::GetFacilityByCode(std::string_view code) {
  std::lock_guard lock(read_mu_);
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, reader_->Prepare("SELECT " ANSHIN_FACILITY_COLS " FROM facilities WHERE code = ?"));
  q.Bind(1, code);
  ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
  ANSHIN_RETURN_IF_ERROR(NotFoundUnless(row, "facility " + std::string(code)));
  return ReadFacility(q);
}

Result<std::vector<Facility>> SqliteStore::ListFacilities() {
  std::lock_guard lock(read_mu_);
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, reader_->Prepare("SELECT " ANSHIN_FACILITY_COLS " FROM facilities ORDER BY code"));
  std::vector<Facility> out;
  ANSHIN_RETURN_IF_ERROR(q.ForEachRow([&] { out.push_back(ReadFacility(q)); }));
  return out;
}

// ---- agents ------------------------------------------------------------------------------

Result<AgentId> SqliteStore::AddAgent(const Agent& a, const Actor& who) {
  return Write([&](Db& db) -> Result<AgentId> {
    ANSHIN_ASSIGN_OR_RETURN(Query q,
                            db.Prepare("INSERT INTO agents(name, facility_id, cert_sha256, status, "
                                       "enrolled_at) VALUES (?, ?, ?, ?, ?)"));
    q.Bind(1, a.name)
        .Bind(2, a.facility.value)
        .Bind(3, a.cert_sha256)
        .Bind(4, AgentStatusName(a.status));
    q.Bind(5, ToUnixMillis(a.enrolled_at));
    ANSHIN_RETURN_IF_ERROR(q.Run().WithContext("agent " + a.name));
    AgentId id{db.LastInsertRowid()};
    ANSHIN_RETURN_IF_ERROR(AppendAuditOn(db, who, "agent.enroll",
                                         "agent=" + a.name + " facility=" + a.facility.ToString() +
                                             " cert_sha256=" + a.cert_sha256));
    return id;
  });
}

Status SqliteStore::SetAgentStatus(std::string_view name, AgentStatus status, const Actor& who) {
  return Write([&](Db& db) -> Status {
    {
      ANSHIN_ASSIGN_OR_RETURN(Query q, db.Prepare("SELECT status FROM agents WHERE name = ?"));
      q.Bind(1, name);
      ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
      ANSHIN_RETURN_IF_ERROR(NotFoundUnless(row, "agent " + std::string(name)));
      if (q.TextView(0) == "revoked" && status != AgentStatus::kRevoked) {
        return Status::FailedPrecondition("agent " + std::string(name) +
                                          " is revoked; enrol a new certificate");
      }
    }
    ANSHIN_ASSIGN_OR_RETURN(Query q, db.Prepare("UPDATE agents SET status = ? WHERE name = ?"));
    q.Bind(1, AgentStatusName(status)).Bind(2, name);
    ANSHIN_RETURN_IF_ERROR(q.Run());
    return AppendAuditOn(db, who, "agent." + std::string(AgentStatusName(status)),
                         "agent=" + std::string(name));
  });
}

Result<Agent> SqliteStore::GetAgent(std::string_view name) {
  std::lock_guard lock(read_mu_);
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, reader_->Prepare("SELECT " ANSHIN_AGENT_COLS " FROM agents WHERE name = ?"));
  q.Bind(1, name);
  ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
  ANSHIN_RETURN_IF_ERROR(NotFoundUnless(row, "agent " + std::string(name)));
  return ReadAgent(q);
}

Result<std::vector<Agent>> SqliteStore::ListAgents() {
  std::lock_guard lock(read_mu_);
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, reader_->Prepare("SELECT " ANSHIN_AGENT_COLS " FROM agents ORDER BY name"));
  std::vector<Agent> out;
  ANSHIN_RETURN_IF_ERROR(q.ForEachRow([&]() -> Status {
    ANSHIN_ASSIGN_OR_RETURN(Agent a, ReadAgent(q));
    out.push_back(std::move(a));
    return Status::Ok();
  }));
  return out;
}

// ---- children, cards, guardians ------------------------------------------------------------

Result<ChildId> SqliteStore::AddChild(const Child& c, const Actor& who) {
  if (c.name.empty()) return Status::InvalidArgument("name: must not be empty");
  return Write([&](Db& db) -> Result<ChildId> {
    ANSHIN_ASSIGN_OR_RETURN(
        Query q, db.Prepare("INSERT INTO children(name, facility_id, dep_sun_s, dep_mon_s, "
                            "dep_tue_s, dep_wed_s, dep_thu_s, dep_fri_s, dep_sat_s, "
                            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    q.Bind(1, c.name).Bind(2, c.facility.value);
    for (int d = 0; d < 7; ++d) {
      const auto& t = c.schedule.expected_departure[d];
      if (t)
        q.Bind(3 + d, t->seconds);
      else
        q.BindNull(3 + d);
    }
    q.Bind(10, ToUnixMillis(who.at));
    ANSHIN_RETURN_IF_ERROR(q.Run().WithContext("child"));
    ChildId id{db.LastInsertRowid()};
    ANSHIN_RETURN_IF_ERROR(AppendAuditOn(
        db, who, "child.add", "child=" + id.ToString() + " facility=" + c.facility.ToString()));
    return id;
  });
}

Result<Child> SqliteStore::GetChild(ChildId id) {
  std::lock_guard lock(read_mu_);
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, reader_->Prepare("SELECT id, name, facility_id, dep_sun_s, dep_mon_s, dep_tue_s, "
                                "dep_wed_s, dep_thu_s, dep_fri_s, dep_sat_s, status, "
                                "withdrawn_at FROM children WHERE id = ?"));
  q.Bind(1, id.value);
  ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
  ANSHIN_RETURN_IF_ERROR(NotFoundUnless(row, "child " + id.ToString()));
  Child c;
  c.id = id;
  c.name = q.Text(1);
  c.facility = FacilityId{q.Int(2)};
  for (int d = 0; d < 7; ++d) {
    if (auto v = q.OptInt(3 + d))
      c.schedule.expected_departure[d] = LocalTime{static_cast<int>(*v)};
  }
  c.status = q.TextView(10) == "withdrawn" ? ChildStatus::kWithdrawn : ChildStatus::kEnrolled;
  if (auto t = q.OptInt(11)) c.withdrawn_at = FromUnixMillis(*t);
  return c;
}

Status SqliteStore::AssignCard(ChildId child, const CardToken& token, const Actor& who) {
  if (token.empty()) return Status::InvalidArgument("token: must not be empty");
  return Write([&](Db& db) -> Status {
    std::optional<std::string> previous;
    {
      ANSHIN_ASSIGN_OR_RETURN(
          Query q, db.Prepare("SELECT token FROM cards WHERE child_id = ? AND status = 'active'"));
      q.Bind(1, child.value);
      ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
      if (row) previous = q.Text(0);
    }
    if (previous == token.hex())
      return Status::AlreadyExists("card " + token.hex() + " is already this child's active card");
    if (previous) {
      ANSHIN_ASSIGN_OR_RETURN(
          Query q,
          db.Prepare("UPDATE cards SET status = 'retired', retired_at = ? WHERE token = ?"));
      q.Bind(1, ToUnixMillis(who.at)).Bind(2, *previous);
      ANSHIN_RETURN_IF_ERROR(q.Run());
      ANSHIN_ASSIGN_OR_RETURN(CardToken prev, CardToken::Parse(*previous));
      ANSHIN_RETURN_IF_ERROR(AllowlistChange(db, prev, "remove", who.at));
    }
    {
      ANSHIN_ASSIGN_OR_RETURN(Query q,
                              db.Prepare("INSERT INTO cards(token, child_id, status, issued_at) "
                                         "VALUES (?, ?, 'active', ?)"));
      q.Bind(1, token.hex()).Bind(2, child.value).Bind(3, ToUnixMillis(who.at));
      ANSHIN_RETURN_IF_ERROR(q.Run().WithContext("card " + token.hex()));
    }
    ANSHIN_RETURN_IF_ERROR(AllowlistChange(db, token, "add", who.at));
    return AppendAuditOn(db, who, "card.assign",
                         "child=" + child.ToString() + " token=" + token.hex() +
                             (previous ? " retired=" + *previous : std::string()));
  });
}

Status SqliteStore::MarkCardLost(const CardToken& token, const Actor& who) {
  return Write([&](Db& db) -> Status {
    ANSHIN_ASSIGN_OR_RETURN(
        Query q,
        db.Prepare("UPDATE cards SET status = 'lost' WHERE token = ? AND status = 'active'"));
    q.Bind(1, token.hex());
    ANSHIN_RETURN_IF_ERROR(q.Run());
    if (db.Changes() == 0) return Status::NotFound("active card " + token.hex());
    // A lost card stays in the allowlist: its taps must reach the server to raise the alert.
    return AppendAuditOn(db, who, "card.lost", "token=" + token.hex());
  });
}

Result<CardToken> SqliteStore::MarkChildCardLost(ChildId child, const Actor& who) {
  return Write([&](Db& db) -> Result<CardToken> {
    std::string token;
    {
      ANSHIN_ASSIGN_OR_RETURN(
          Query q, db.Prepare("SELECT token FROM cards WHERE child_id = ? AND status = 'active'"));
      q.Bind(1, child.value);
      ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
      ANSHIN_RETURN_IF_ERROR(NotFoundUnless(row, "active card of child " + child.ToString()));
      token = q.Text(0);
    }
    ANSHIN_ASSIGN_OR_RETURN(
        Query q,
        db.Prepare("UPDATE cards SET status = 'lost' WHERE token = ? AND status = 'active'"));
    q.Bind(1, token);
    ANSHIN_RETURN_IF_ERROR(q.Run());
    ANSHIN_RETURN_IF_ERROR(
        AppendAuditOn(db, who, "card.lost", "child=" + child.ToString() + " token=" + token));
    return CardToken::Parse(token);
  });
}

Result<std::vector<Card>> SqliteStore::ListCards(ChildId child) {
  std::lock_guard lock(read_mu_);
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, reader_->Prepare("SELECT token, status, issued_at, retired_at FROM cards WHERE "
                                "child_id = ? ORDER BY issued_at, token"));
  q.Bind(1, child.value);
  std::vector<Card> out;
  for (;;) {
    ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    Card c;
    ANSHIN_ASSIGN_OR_RETURN(c.token, CardToken::Parse(q.TextView(0)));
    c.child = child;
    ANSHIN_ASSIGN_OR_RETURN(c.status, ParseCardStatus(q.TextView(1)));
    c.issued_at = FromUnixMillis(q.Int(2));
    if (auto t = q.OptInt(3)) c.retired_at = FromUnixMillis(*t);
    out.push_back(std::move(c));
  }
  return out;
}

Result<VerificationTicket> SqliteStore::AddGuardian(const Guardian& g, const Actor& who) {
  ANSHIN_RETURN_IF_ERROR(CheckEmail(g.email));
  return Write([&](Db& db) -> Result<VerificationTicket> {
    {
      ANSHIN_ASSIGN_OR_RETURN(Query q,
                              db.Prepare("SELECT COUNT(*) FROM guardians WHERE child_id = ?"));
      q.Bind(1, g.child.value);
      ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
      (void)row;
      if (q.Int(0) >= options_.max_guardians_per_child) {
        return Status::FailedPrecondition("child " + g.child.ToString() + " already has " +
                                          std::to_string(options_.max_guardians_per_child) +
                                          " guardians");
      }
    }
    ANSHIN_ASSIGN_OR_RETURN(
        Query q, db.Prepare("INSERT INTO guardians(child_id, email, wants_arrival, "
                            "wants_departure, charset, created_at) VALUES (?, ?, ?, ?, ?, ?)"));
    q.Bind(1, g.child.value).Bind(2, g.email).Bind(3, g.wants_arrival).Bind(4, g.wants_departure);
    q.Bind(5, CharsetName(g.charset)).Bind(6, ToUnixMillis(who.at));
    ANSHIN_RETURN_IF_ERROR(q.Run().WithContext("guardian of child " + g.child.ToString()));
    GuardianId id{db.LastInsertRowid()};
    ANSHIN_ASSIGN_OR_RETURN(VerificationTicket t, IssueVerification(db, id, who.at));
    ANSHIN_RETURN_IF_ERROR(AppendAuditOn(
        db, who, "guardian.add", "guardian=" + id.ToString() + " child=" + g.child.ToString()));
    return t;
  });
}

Result<VerificationTicket> SqliteStore::ResendVerification(GuardianId id, const Actor& who) {
  return Write([&](Db& db) -> Result<VerificationTicket> {
    {
      ANSHIN_ASSIGN_OR_RETURN(Query q, db.Prepare("SELECT verified FROM guardians WHERE id = ?"));
      q.Bind(1, id.value);
      ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
      ANSHIN_RETURN_IF_ERROR(NotFoundUnless(row, "guardian " + id.ToString()));
      if (q.Int(0) != 0)
        return Status::FailedPrecondition("guardian " + id.ToString() + " is already verified");
    }
    ANSHIN_ASSIGN_OR_RETURN(VerificationTicket t, IssueVerification(db, id, who.at));
    ANSHIN_RETURN_IF_ERROR(
        AppendAuditOn(db, who, "guardian.resend_verification", "guardian=" + id.ToString()));
    return t;
  });
}

Result<Guardian> SqliteStore::GetGuardian(GuardianId id) {
  std::lock_guard lock(read_mu_);
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, reader_->Prepare("SELECT " ANSHIN_GUARDIAN_COLS " FROM guardians WHERE id = ?"));
  q.Bind(1, id.value);
  ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
  ANSHIN_RETURN_IF_ERROR(NotFoundUnless(row, "guardian " + id.ToString()));
  return ReadGuardian(q);
}

Status SqliteStore::VerifyGuardianByCode(GuardianId id, std::string_view code, TimePoint now) {
  // A wrong code must still commit its attempt count, so the outcome is carried out of the
  // transaction rather than returned as its failure.
  Status outcome;
  Status s = Write([&](Db& db) -> Status {
    std::string hash;
    std::int64_t expires = 0, attempts = 0;
    {
      ANSHIN_ASSIGN_OR_RETURN(
          Query q, db.Prepare("SELECT verified, code_hash, code_expires_at, code_attempts FROM "
                              "guardians WHERE id = ?"));
      q.Bind(1, id.value);
      ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
      ANSHIN_RETURN_IF_ERROR(NotFoundUnless(row, "guardian " + id.ToString()));
      if (q.Int(0) != 0) return Status::Ok();  // already verified: nothing to do
      if (q.IsNull(1)) {
        outcome =
            Status::FailedPrecondition("guardian " + id.ToString() + ": no verification pending");
        return Status::Ok();
      }
      hash = q.Text(1);
      expires = q.Int(2);
      attempts = q.Int(3);
    }
    if (attempts >= kMaxVerificationAttempts) {
      outcome = Status::ResourceExhausted("guardian " + id.ToString() +
                                          ": too many wrong codes; send a new one");
      return Status::Ok();
    }
    if (ToUnixMillis(now) > expires) {
      outcome = Status::FailedPrecondition("guardian " + id.ToString() +
                                           ": the code has expired; send a new one");
      return Status::Ok();
    }
    std::string given = CodeHash(id, code);
    if (given.size() != hash.size() || sodium_memcmp(given.data(), hash.data(), hash.size()) != 0) {
      ANSHIN_ASSIGN_OR_RETURN(
          Query q,
          db.Prepare("UPDATE guardians SET code_attempts = code_attempts + 1 WHERE id = ?"));
      q.Bind(1, id.value);
      ANSHIN_RETURN_IF_ERROR(q.Run());
      outcome = Status::InvalidArgument("code: does not match");
      return AppendAuditOn(db, Actor{"verification", now}, "guardian.verify_failed",
                           "guardian=" + id.ToString());
    }
    ANSHIN_RETURN_IF_ERROR(MarkVerified(db, id, now));
    return AppendAuditOn(db, Actor{"verification", now}, "guardian.verified",
                         "guardian=" + id.ToString() + " by=code");
  });
  ANSHIN_RETURN_IF_ERROR(s);
  return outcome;
}

Result<GuardianId> SqliteStore::VerifyGuardianByLink(std::string_view link_token, TimePoint now) {
  return Write([&](Db& db) -> Result<GuardianId> {
    GuardianId id;
    {
      ANSHIN_ASSIGN_OR_RETURN(
          Query q, db.Prepare("SELECT id, code_expires_at FROM guardians WHERE link_hash = ?"));
      std::string hash = LinkHash(link_token);
      q.Bind(1, hash);
      ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
      ANSHIN_RETURN_IF_ERROR(NotFoundUnless(row, "verification link"));
      id = GuardianId{q.Int(0)};
      if (ToUnixMillis(now) > q.Int(1)) {
        return Status::FailedPrecondition("the verification link has expired");
      }
    }
    ANSHIN_RETURN_IF_ERROR(MarkVerified(db, id, now));
    ANSHIN_RETURN_IF_ERROR(AppendAuditOn(db, Actor{"verification", now}, "guardian.verified",
                                         "guardian=" + id.ToString() + " by=link"));
    return id;
  });
}

// ---- allowlist ---------------------------------------------------------------------------

Result<wire::AllowlistDelta> SqliteStore::Allowlist(std::uint64_t since) {
  std::lock_guard lock(read_mu_);
  Db& db = *reader_;
  // One read transaction so the version and the tokens agree.
  ANSHIN_RETURN_IF_ERROR(db.Exec("BEGIN"));
  auto result = [&]() -> Result<wire::AllowlistDelta> {
    wire::AllowlistDelta d;
    ANSHIN_ASSIGN_OR_RETURN(d.version, CurrentAllowlistVersion(db));
    if (since == d.version) return d;
    std::uint64_t oldest = 0;
    {
      ANSHIN_ASSIGN_OR_RETURN(
          Query q, db.Prepare("SELECT COALESCE(MIN(version), 0) FROM allowlist_changes"));
      ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
      (void)row;
      oldest = static_cast<std::uint64_t>(q.Int(0));
    }
    // since = 0, a version from before the oldest kept change, or one this server never
    // issued (the database was replaced): the agent gets the whole list.
    if (since == 0 || since > d.version || since + 1 < oldest) {
      d.full = true;
      ANSHIN_ASSIGN_OR_RETURN(
          Query q, db.Prepare("SELECT token FROM cards WHERE status IN ('active', 'lost') "
                              "ORDER BY token"));
      for (;;) {
        ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row) break;
        ANSHIN_ASSIGN_OR_RETURN(CardToken t, CardToken::Parse(q.TextView(0)));
        d.added.push_back(std::move(t));
      }
      return d;
    }
    // The net effect per token: its latest change after `since`.
    ANSHIN_ASSIGN_OR_RETURN(
        Query q, db.Prepare("SELECT a.token, a.op FROM allowlist_changes a WHERE a.version > ? "
                            "AND a.version = (SELECT MAX(b.version) FROM allowlist_changes b "
                            "WHERE b.token = a.token) ORDER BY a.token"));
    q.Bind(1, since);
    for (;;) {
      ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      ANSHIN_ASSIGN_OR_RETURN(CardToken t, CardToken::Parse(q.TextView(0)));
      (q.TextView(1) == "add" ? d.added : d.removed).push_back(std::move(t));
    }
    return d;
  }();
  (void)db.Exec("COMMIT");
  return result;
}

// ---- taps and alerts ---------------------------------------------------------------------

Result<std::vector<TapRecord>> SqliteStore::ListTaps(AgentId agent, std::uint64_t after_seq,
                                                     int limit) {
  std::lock_guard lock(read_mu_);
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, reader_->Prepare("SELECT " ANSHIN_TAP_COLS
                                " FROM taps WHERE agent_id = ? AND seq > ? ORDER BY seq LIMIT ?"));
  q.Bind(1, agent.value).Bind(2, after_seq).Bind(3, limit);
  std::vector<TapRecord> out;
  ANSHIN_RETURN_IF_ERROR(q.ForEachRow([&]() -> Status {
    ANSHIN_ASSIGN_OR_RETURN(TapRecord t, ReadTap(q, agent));
    out.push_back(std::move(t));
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<AlertRecord>> SqliteStore::ListAlerts(bool unacknowledged_only) {
  std::lock_guard lock(read_mu_);
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, reader_->Prepare("SELECT id, kind, facility_id, child_id, at, detail, acknowledged "
                                "FROM alerts WHERE acknowledged = 0 OR NOT ? ORDER BY id"));
  q.Bind(1, unacknowledged_only);
  std::vector<AlertRecord> out;
  for (;;) {
    ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    AlertRecord a;
    a.id = q.Int(0);
    a.kind = q.TextView(1) == "lost_card_seen" ? AlertKind::kLostCardSeen : AlertKind::kNoDeparture;
    a.facility = FacilityId{q.Int(2)};
    if (auto c = q.OptInt(3)) a.child = ChildId{*c};
    a.at = FromUnixMillis(q.Int(4));
    a.detail = q.Text(5);
    a.acknowledged = q.Int(6) != 0;
    out.push_back(std::move(a));
  }
  return out;
}

// ---- mail outbox -------------------------------------------------------------------------

Result<std::vector<OutboxItem>> SqliteStore::ClaimOutbox(int limit, TimePoint now) {
  return Write([&](Db& db) -> Result<std::vector<OutboxItem>> {
    std::vector<OutboxItem> items;
    {
      ANSHIN_ASSIGN_OR_RETURN(
          Query q,
          db.Prepare(
              "SELECT o.id, o.kind, o.guardian_id, g.email, g.charset, o.child_id, "
              "COALESCE(c.name, ''), o.facility_id, COALESCE(f.name, ''), COALESCE(f.tz_name, "
              "'Asia/Tokyo'), o.tap_at, o.arrival_at, o.late, COALESCE(o.verification_code, ''), "
              "COALESCE(o.link_token, ''), o.attempts, o.created_at FROM outbox o "
              "JOIN guardians g ON g.id = o.guardian_id "
              "LEFT JOIN children c ON c.id = o.child_id "
              "LEFT JOIN facilities f ON f.id = o.facility_id "
              "WHERE o.state IN ('queued', 'retrying') AND o.next_attempt_at <= ? "
              "ORDER BY o.next_attempt_at, o.id LIMIT ?"));
      q.Bind(1, ToUnixMillis(now)).Bind(2, limit);
      for (;;) {
        ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row) break;
        OutboxItem it;
        it.id = q.Int(0);
        ANSHIN_ASSIGN_OR_RETURN(it.kind, ParseOutboxKind(q.TextView(1)));
        it.guardian = GuardianId{q.Int(2)};
        it.email = q.Text(3);
        ANSHIN_ASSIGN_OR_RETURN(it.charset, ParseCharset(q.TextView(4)));
        if (auto c = q.OptInt(5)) it.child = ChildId{*c};
        it.child_name = q.Text(6);
        if (auto f = q.OptInt(7)) it.facility = FacilityId{*f};
        it.facility_name = q.Text(8);
        it.facility_tz = q.Text(9);
        if (auto t = q.OptInt(10)) it.tap_at = FromUnixMillis(*t);
        if (auto t = q.OptInt(11)) it.arrival_at = FromUnixMillis(*t);
        it.late = q.Int(12) != 0;
        it.verification_code = q.Text(13);
        it.link_token = q.Text(14);
        it.attempts = static_cast<int>(q.Int(15));
        it.created_at = FromUnixMillis(q.Int(16));
        items.push_back(std::move(it));
      }
    }
    ANSHIN_ASSIGN_OR_RETURN(Query q,
                            db.Prepare("UPDATE outbox SET state = 'sending' WHERE id = ?"));
    for (const OutboxItem& it : items) {
      q.Bind(1, it.id);
      ANSHIN_RETURN_IF_ERROR(q.Run());
      q.Reset();
    }
    return items;
  });
}

Status SqliteStore::RecordSendResults(std::span<const SendResult> results) {
  return Write([&](Db& db) -> Status {
    for (const SendResult& r : results) {
      const std::int64_t at = ToUnixMillis(r.at);
      const char* result = "sent";
      switch (r.outcome) {
        case SendResult::Outcome::kSent: {
          ANSHIN_ASSIGN_OR_RETURN(
              Query q,
              db.Prepare("UPDATE outbox SET state = 'sent', attempts = attempts + 1, "
                         "relay_reply = ?, message_id = ?, sent_at = ?, last_error = "
                         "NULL, verification_code = NULL, link_token = NULL WHERE id = ?"));
          q.Bind(1, r.reply).Bind(2, r.message_id).Bind(3, at).Bind(4, r.outbox_id);
          ANSHIN_RETURN_IF_ERROR(q.Run());
          break;
        }
        case SendResult::Outcome::kRetry: {
          result = "retry";
          ANSHIN_ASSIGN_OR_RETURN(
              Query q, db.Prepare("UPDATE outbox SET state = 'retrying', attempts = attempts + 1, "
                                  "next_attempt_at = ?, last_error = ?, message_id = ? "
                                  "WHERE id = ?"));
          q.Bind(1, ToUnixMillis(r.next_attempt_at.value_or(r.at)))
              .Bind(2, r.reply)
              .Bind(3, r.message_id);
          q.Bind(4, r.outbox_id);
          ANSHIN_RETURN_IF_ERROR(q.Run());
          break;
        }
        case SendResult::Outcome::kFailed: {
          result = "failed";
          ANSHIN_ASSIGN_OR_RETURN(
              Query q, db.Prepare("UPDATE outbox SET state = 'failed', attempts = attempts + 1, "
                                  "last_error = ?, message_id = ?, verification_code = NULL, "
                                  "link_token = NULL WHERE id = ?"));
          q.Bind(1, r.reply).Bind(2, r.message_id).Bind(3, r.outbox_id);
          ANSHIN_RETURN_IF_ERROR(q.Run());
          break;
        }
      }
      if (db.Changes() == 0) continue;  // no such row: nothing to record against
      if (r.outcome == SendResult::Outcome::kFailed && r.smtp_code >= 500 && r.smtp_code < 600) {
        ANSHIN_ASSIGN_OR_RETURN(Query q,
                                db.Prepare("UPDATE guardians SET bouncing = 1 WHERE id = "
                                           "(SELECT guardian_id FROM outbox WHERE id = ?)"));
        q.Bind(1, r.outbox_id);
        ANSHIN_RETURN_IF_ERROR(q.Run());
      }
      ANSHIN_ASSIGN_OR_RETURN(
          Query q, db.Prepare("INSERT INTO send_log(outbox_id, at, result, smtp_code, reply, "
                              "message_id) VALUES (?, ?, ?, ?, ?, ?)"));
      q.Bind(1, r.outbox_id).Bind(2, at).Bind(3, result).Bind(4, r.smtp_code).Bind(5, r.reply);
      if (r.message_id.empty())
        q.BindNull(6);
      else
        q.Bind(6, r.message_id);
      ANSHIN_RETURN_IF_ERROR(q.Run());
    }
    return Status::Ok();
  });
}

Result<int> SqliteStore::RequeueStaleSending() {
  return Write([&](Db& db) -> Result<int> {
    ANSHIN_ASSIGN_OR_RETURN(
        Query q, db.Prepare("UPDATE outbox SET state = 'queued' WHERE state = 'sending'"));
    ANSHIN_RETURN_IF_ERROR(q.Run());
    return db.Changes();
  });
}

Result<OutboxStats> SqliteStore::GetOutboxStats(TimePoint now) {
  std::lock_guard lock(read_mu_);
  OutboxStats st;
  {
    // Sent and failed rows are counted from the partial indexes' complement only on demand:
    // the pending states use outbox_pending, the terminal ones a plain count.
    ANSHIN_ASSIGN_OR_RETURN(Query q,
                            reader_->Prepare("SELECT state, COUNT(*), MIN(created_at) FROM outbox "
                                             "GROUP BY state"));
    std::optional<std::int64_t> oldest;
    for (;;) {
      ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      ANSHIN_ASSIGN_OR_RETURN(OutboxState state, ParseOutboxState(q.TextView(0)));
      std::int64_t n = q.Int(1);
      switch (state) {
        case OutboxState::kQueued:
          st.queued = n;
          break;
        case OutboxState::kSending:
          st.sending = n;
          break;
        case OutboxState::kSent:
          st.sent = n;
          break;
        case OutboxState::kRetrying:
          st.retrying = n;
          break;
        case OutboxState::kFailed:
          st.failed = n;
          break;
      }
      if (state == OutboxState::kQueued || state == OutboxState::kSending ||
          state == OutboxState::kRetrying) {
        std::int64_t created = q.Int(2);
        if (!oldest || created < *oldest) oldest = created;
      }
    }
    st.depth = st.queued + st.sending + st.retrying;
    if (oldest) st.oldest_age = std::max(Millis(0), Millis(ToUnixMillis(now) - *oldest));
  }
  return st;
}

Result<int> SqliteStore::EnqueueTestMails(TimePoint now) {
  return Write([&](Db& db) -> Result<int> {
    ANSHIN_ASSIGN_OR_RETURN(
        Query q, db.Prepare("INSERT INTO outbox(kind, guardian_id, child_id, facility_id, "
                            "next_attempt_at, created_at) SELECT 'test', g.id, g.child_id, "
                            "c.facility_id, ?, ? FROM guardians g JOIN children c ON c.id = "
                            "g.child_id WHERE g.verified = 1 AND g.bouncing = 0 AND c.status "
                            "= 'enrolled' ORDER BY g.id"));
    q.Bind(1, ToUnixMillis(now)).Bind(2, ToUnixMillis(now));
    ANSHIN_RETURN_IF_ERROR(q.Run());
    int n = db.Changes();
    ANSHIN_RETURN_IF_ERROR(AppendAuditOn(db, Actor{"scheduler", now}, "mail.test_queued",
                                         "count=" + std::to_string(n)));
    return n;
  });
}

Result<std::vector<OutboxRow>> SqliteStore::ListOutbox(std::optional<ChildId> child) {
  std::lock_guard lock(read_mu_);
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, reader_->Prepare("SELECT id, kind, guardian_id, child_id, facility_id, tap_at, "
                                "arrival_at, late, state, attempts, next_attempt_at, created_at, "
                                "COALESCE(last_error, ''), COALESCE(relay_reply, ''), "
                                "COALESCE(message_id, ''), sent_at FROM outbox WHERE ? IS NULL "
                                "OR child_id = ? ORDER BY id"));
  if (child) {
    q.Bind(1, child->value).Bind(2, child->value);
  } else {
    q.BindNull(1).BindNull(2);
  }
  std::vector<OutboxRow> out;
  for (;;) {
    ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    OutboxRow r;
    r.id = q.Int(0);
    ANSHIN_ASSIGN_OR_RETURN(r.kind, ParseOutboxKind(q.TextView(1)));
    r.guardian = GuardianId{q.Int(2)};
    if (auto c = q.OptInt(3)) r.child = ChildId{*c};
    if (auto f = q.OptInt(4)) r.facility = FacilityId{*f};
    if (auto t = q.OptInt(5)) r.tap_at = FromUnixMillis(*t);
    if (auto t = q.OptInt(6)) r.arrival_at = FromUnixMillis(*t);
    r.late = q.Int(7) != 0;
    ANSHIN_ASSIGN_OR_RETURN(r.state, ParseOutboxState(q.TextView(8)));
    r.attempts = static_cast<int>(q.Int(9));
    r.next_attempt_at = FromUnixMillis(q.Int(10));
    r.created_at = FromUnixMillis(q.Int(11));
    r.last_error = q.Text(12);
    r.relay_reply = q.Text(13);
    r.message_id = q.Text(14);
    if (auto t = q.OptInt(15)) r.sent_at = FromUnixMillis(*t);
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<SendLogEntry>> SqliteStore::SendLog(std::int64_t outbox_id) {
  std::lock_guard lock(read_mu_);
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, reader_->Prepare("SELECT at, result, smtp_code, reply FROM send_log WHERE "
                                "outbox_id = ? ORDER BY id"));
  q.Bind(1, outbox_id);
  std::vector<SendLogEntry> out;
  for (;;) {
    ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(SendLogEntry{outbox_id, FromUnixMillis(q.Int(0)), q.Text(1),
                               static_cast<int>(q.Int(2)), q.Text(3)});
  }
  return out;
}

// ---- audit -------------------------------------------------------------------------------

Status SqliteStore::AppendAudit(const Actor& who, std::string_view action,
                                std::string_view detail) {
  return Write([&](Db& db) -> Status { return AppendAuditOn(db, who, action, detail); });
}

Result<std::vector<AuditEntry>> SqliteStore::ListAudit() {
  std::lock_guard lock(read_mu_);
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, reader_->Prepare("SELECT id, at, actor, action, detail, prev_hash, hash FROM "
                                "audit_log ORDER BY id"));
  std::vector<AuditEntry> out;
  for (;;) {
    ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(AuditEntry{q.Int(0), FromUnixMillis(q.Int(1)), q.Text(2), q.Text(3), q.Text(4),
                             q.Text(5), q.Text(6)});
  }
  return out;
}

Status SqliteStore::VerifyAuditChain() {
  ANSHIN_ASSIGN_OR_RETURN(std::vector<AuditEntry> entries, ListAudit());
  std::string prev = kGenesisHash;
  for (const AuditEntry& e : entries) {
    if (e.prev_hash != prev) {
      return Status::Internal("audit_log row " + std::to_string(e.id) +
                              ": prev_hash does not match the previous row");
    }
    if (AuditHash(prev, ToUnixMillis(e.at), e.actor, e.action, e.detail) != e.hash) {
      return Status::Internal("audit_log row " + std::to_string(e.id) +
                              ": hash does not match its content");
    }
    prev = e.hash;
  }
  return Status::Ok();
}

}  // namespace anshin::store
