#include "provisioning/admin.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <system_error>

#include "common/sys/sys.hpp"
#include "provisioning/pki.hpp"
#include "services/audit_log.hpp"
#include "store/open.hpp"

namespace anshin::admin {
namespace {

namespace fs = std::filesystem;
constexpr fs::perms kPrivate = fs::perms::owner_read | fs::perms::owner_write;
constexpr fs::perms kPublic = kPrivate | fs::perms::group_read | fs::perms::others_read;

std::string Trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\n' || s.front() == '\r' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return std::string(s);
}

std::string TomlString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + '"';
}

template <typename D>
Status SetDuration(const std::optional<std::string>& text, const char* flag, D& out) {
  if (!text) return Status::Ok();
  auto d = sys::ParseDuration(*text);
  if (!d.ok()) return Status::InvalidArgument(std::string(flag) + ": " + d.status().message());
  if (*d < Millis(0)) return Status::InvalidArgument(std::string(flag) + ": must not be negative");
  out = std::chrono::duration_cast<D>(*d);
  if (std::chrono::duration_cast<Millis>(out) != *d) {
    return Status::InvalidArgument(std::string(flag) + ": too fine for this setting");
  }
  return Status::Ok();
}

Status SetTime(const std::optional<std::string>& text, const char* flag, LocalTime& out) {
  if (!text) return Status::Ok();
  auto t = LocalTime::Parse(*text);
  if (!t.ok()) return Status::InvalidArgument(std::string(flag) + ": " + t.status().message());
  out = *t;
  return Status::Ok();
}

}  // namespace

fs::path DefaultHome() {
  const char* env = std::getenv("ANSHIN_HOME");
  return env != nullptr && *env != '\0' ? fs::path(env) : fs::path("/var/lib/anshin");
}

std::string OperatorName() {
  if (const passwd* pw = getpwuid(geteuid()); pw != nullptr && pw->pw_name != nullptr)
    return pw->pw_name;
  return "uid:" + std::to_string(geteuid());
}

// ---- init --------------------------------------------------------------------------------

Status Init(const fs::path& home, const InitOptions& options, const std::string& user,
            TimePoint now) {
  if (options.server_sans.empty())
    return Status::InvalidArgument("server-san: at least one is required");
  ANSHIN_ASSIGN_OR_RETURN(std::string server_toml, ServerToml(options));
  const fs::path db = home / "anshin.db", pki = home / "pki";
  std::error_code ec;
  if (!options.force && (fs::exists(db, ec) || fs::exists(pki / "ca.key", ec))) {
    return Status::AlreadyExists(home.string() +
                                 " already holds a deployment; use --force to replace it");
  }
  fs::create_directories(pki, ec);
  if (ec) return Status::Unavailable("creating " + pki.string() + ": " + ec.message());
  fs::permissions(pki,
                  fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                      fs::perms::others_read | fs::perms::others_exec,
                  ec);
  if (options.force) {
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db.string() + suffix, ec);
  }

  CertSpec ca_spec{"anshin deployment CA", now, std::chrono::days(3650)};
  ANSHIN_ASSIGN_OR_RETURN(PrivateKey ca_key, GenerateP256Key());
  ANSHIN_ASSIGN_OR_RETURN(Certificate ca, MakeCaCertificate(ca_key.get(), ca_spec));
  CertSpec server_spec{options.server_sans.front(), now, std::chrono::days(825)};
  ANSHIN_ASSIGN_OR_RETURN(PrivateKey server_key, GenerateP256Key());
  ANSHIN_ASSIGN_OR_RETURN(Certificate server,
                          IssueServerCertificate(ca.get(), ca_key.get(), server_key.get(),
                                                 server_spec, options.server_sans));
  ANSHIN_ASSIGN_OR_RETURN(std::string ca_key_pem, PrivateKeyPem(ca_key.get()));
  ANSHIN_ASSIGN_OR_RETURN(std::string ca_pem, CertificatePem(ca.get()));
  ANSHIN_ASSIGN_OR_RETURN(std::string server_key_pem, PrivateKeyPem(server_key.get()));
  ANSHIN_ASSIGN_OR_RETURN(std::string server_pem, CertificatePem(server.get()));
  ANSHIN_RETURN_IF_ERROR(sys::WriteFileAtomic(pki / "ca.key", ca_key_pem, kPrivate));
  ANSHIN_RETURN_IF_ERROR(sys::WriteFileAtomic(pki / "ca.crt", ca_pem, kPublic));
  ANSHIN_RETURN_IF_ERROR(sys::WriteFileAtomic(pki / "server.key", server_key_pem, kPrivate));
  ANSHIN_RETURN_IF_ERROR(sys::WriteFileAtomic(pki / "server.crt", server_pem, kPublic));
  ANSHIN_RETURN_IF_ERROR(
      sys::WriteFileAtomic(home / "card.key", CardKey::Generate().ToHex() + "\n", kPrivate));
  ANSHIN_RETURN_IF_ERROR(sys::WriteFileAtomic(home / "server.toml", server_toml, kPublic));

  store::OpenOptions so;
  so.database = db;
  so.readers = 1;
  ANSHIN_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> st, store::OpenStore(so));
  ANSHIN_ASSIGN_OR_RETURN(std::string ca_sha, CertificateSha256(ca.get()));
  std::string sans;
  for (const auto& s : options.server_sans) sans += (sans.empty() ? "" : ",") + s;
  return store::InWrite(*st, [&](store::WriteTxn& txn) {
    return services::AppendAudit(txn, store::Actor{user, now}, "deployment.init",
                                 "ca_sha256=" + ca_sha + " server_sans=" + sans);
  });
}

// ---- facilities --------------------------------------------------------------------------

Status ApplyFacilitySettings(const FacilitySettings& s, store::Facility& f) {
  if (s.name) f.name = *s.name;
  if (s.tz) f.tz_name = *s.tz;
  ANSHIN_RETURN_IF_ERROR(SetTime(s.departure_from, "departure-from", f.rules.departure_from));
  ANSHIN_RETURN_IF_ERROR(
      SetDuration(s.departure_margin, "departure-margin", f.rules.departure_margin));
  ANSHIN_RETURN_IF_ERROR(
      SetDuration(s.double_tap_window, "double-tap-window", f.rules.double_tap_window));
  ANSHIN_RETURN_IF_ERROR(SetTime(s.closing_time, "closing-time", f.rules.closing_time));
  ANSHIN_RETURN_IF_ERROR(SetDuration(s.closing_grace, "closing-grace", f.rules.closing_grace));
  ANSHIN_RETURN_IF_ERROR(SetDuration(s.late_after, "late-after", f.rules.late_after));
  ANSHIN_RETURN_IF_ERROR(SetTime(s.opens, "opens", f.opens));
  if (s.expected_arrival_by && *s.expected_arrival_by == "none") {
    f.expected_arrival_by.reset();
  } else if (s.expected_arrival_by) {
    LocalTime by;
    ANSHIN_RETURN_IF_ERROR(SetTime(s.expected_arrival_by, "expected-arrival-by", by));
    f.expected_arrival_by = by;
  }
  if (s.notify_not_arrived) {
    if (*s.notify_not_arrived != "on" && *s.notify_not_arrived != "off") {
      return Status::InvalidArgument("notify-not-arrived: \"" + *s.notify_not_arrived +
                                     "\" is neither on nor off");
    }
    f.notify_not_arrived = *s.notify_not_arrived == "on";
  }
  f.closes = f.rules.closing_time;
  return Status::Ok();
}

Admin::Admin(fs::path home, std::string user, std::shared_ptr<const Clock> clock,
             std::unique_ptr<store::Store> store)
    : home_(std::move(home)),
      user_(std::move(user)),
      clock_(std::move(clock)),
      store_(std::move(store)),
      facilities_(*store_, [this](const std::string& name) { return zones_.Get(name); }),
      agents_(*store_),
      children_(*store_),
      cards_(*store_),
      guardians_(*store_),
      inquiries_(*store_, [this](const std::string& name) { return zones_.Get(name); }) {}

Result<std::unique_ptr<Admin>> Admin::Open(const fs::path& home, std::string user,
                                           std::shared_ptr<const Clock> clock) {
  std::error_code ec;
  if (!fs::exists(home / "anshin.db", ec)) {
    return Status::FailedPrecondition(home.string() +
                                      " holds no deployment; run `anshin-admin init` first");
  }
  store::OpenOptions so;
  so.database = home / "anshin.db";
  so.readers = 1;
  ANSHIN_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> st, store::OpenStore(so));
  return std::unique_ptr<Admin>(new Admin(home, std::move(user), std::move(clock), std::move(st)));
}

Result<FacilityId> Admin::FacilityAdd(const std::string& code, const FacilitySettings& s) {
  if (!s.name) return Status::InvalidArgument("name: required");
  store::Facility f;
  f.code = code;
  ANSHIN_RETURN_IF_ERROR(ApplyFacilitySettings(s, f));
  return facilities_.Add(f, Who());
}

Result<std::vector<store::Facility>> Admin::FacilityList() { return facilities_.List(); }

Status Admin::FacilitySet(const std::string& code, const FacilitySettings& s) {
  ANSHIN_ASSIGN_OR_RETURN(store::Facility f, facilities_.ByCode(code));
  ANSHIN_RETURN_IF_ERROR(ApplyFacilitySettings(s, f));
  return facilities_.Update(f, Who());
}

// ---- agents --------------------------------------------------------------------------------

namespace {

constexpr std::chrono::days kAgentCertValidity{825};

// An agent certificate issued by the home's CA for `name`: for the CSR's key, or for a key
// generated here (key_pem).
struct IssuedAgentCert {
  std::optional<std::string> key_pem;
  std::string cert_pem;
  std::string ca_pem;
  std::string sha256;
  TimePoint not_after;
};

Result<IssuedAgentCert> IssueAgentCert(const fs::path& home, const std::string& name,
                                       const std::optional<fs::path>& csr, TimePoint now,
                                       std::chrono::days validity) {
  const fs::path pki = home / "pki";
  IssuedAgentCert out;
  ANSHIN_ASSIGN_OR_RETURN(out.ca_pem, sys::ReadFile(pki / "ca.crt"));
  ANSHIN_ASSIGN_OR_RETURN(std::string ca_key_pem, sys::ReadFile(pki / "ca.key"));
  ANSHIN_ASSIGN_OR_RETURN(Certificate ca, ParseCertificatePem(out.ca_pem));
  ANSHIN_ASSIGN_OR_RETURN(PrivateKey ca_key, ParsePrivateKeyPem(ca_key_pem));
  PrivateKey subject_key;
  if (csr) {
    ANSHIN_ASSIGN_OR_RETURN(std::string csr_pem, sys::ReadFile(*csr));
    ANSHIN_ASSIGN_OR_RETURN(subject_key, PublicKeyFromCsr(csr_pem));
  } else {
    ANSHIN_ASSIGN_OR_RETURN(subject_key, GenerateP256Key());
    ANSHIN_ASSIGN_OR_RETURN(out.key_pem, PrivateKeyPem(subject_key.get()));
  }
  ANSHIN_ASSIGN_OR_RETURN(Certificate cert,
                          IssueClientCertificate(ca.get(), ca_key.get(), subject_key.get(),
                                                 CertSpec{name, now, validity}));
  ANSHIN_ASSIGN_OR_RETURN(out.cert_pem, CertificatePem(cert.get()));
  ANSHIN_ASSIGN_OR_RETURN(out.sha256, CertificateSha256(cert.get()));
  ANSHIN_ASSIGN_OR_RETURN(out.not_after, CertificateNotAfter(cert.get()));
  return out;
}

// Writes agent.key (0600, unless the key is the CSR's), agent.crt and ca.crt into `dir`.
Status WriteCertFiles(const fs::path& dir, const IssuedAgentCert& c) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::Unavailable("creating " + dir.string() + ": " + ec.message());
  if (c.key_pem)
    ANSHIN_RETURN_IF_ERROR(sys::WriteFileAtomic(dir / "agent.key", *c.key_pem, kPrivate));
  ANSHIN_RETURN_IF_ERROR(sys::WriteFileAtomic(dir / "agent.crt", c.cert_pem, kPublic));
  return sys::WriteFileAtomic(dir / "ca.crt", c.ca_pem, kPublic);
}

// Removes what WriteCertFiles and `more` wrote (the operator's CSR key stays).
void RemoveFiles(const fs::path& dir, const IssuedAgentCert& c,
                 const std::vector<std::string>& more = {}) {
  std::error_code ec;
  if (c.key_pem) fs::remove(dir / "agent.key", ec);
  fs::remove(dir / "agent.crt", ec);
  fs::remove(dir / "ca.crt", ec);
  for (const std::string& name : more) fs::remove(dir / name, ec);
}

}  // namespace

Result<EnrollResult> Admin::AgentEnroll(const EnrollOptions& o) {
  ANSHIN_RETURN_IF_ERROR(services::CheckAgentName(o.name));
  if (o.server_url.rfind("https://", 0) != 0)
    return Status::InvalidArgument("server-url: must start with https://");
  ANSHIN_ASSIGN_OR_RETURN(store::Facility f, facilities_.ByCode(o.facility_code));
  if (agents_.Get(o.name).ok())
    return Status::AlreadyExists("agent " + o.name + " is already enrolled");

  ANSHIN_ASSIGN_OR_RETURN(std::string card_key, sys::ReadFile(home_ / "card.key"));
  const TimePoint now = clock_->Now();
  ANSHIN_ASSIGN_OR_RETURN(IssuedAgentCert issued,
                          IssueAgentCert(home_, o.name, o.csr, now, kAgentCertValidity));

  // The bundle is written while the agent's row is written but not committed: if writing fails
  // nothing is enrolled, and if the commit fails the bundle is removed again, so a valid
  // bundle never exists for an agent the server does not know.
  const std::vector<std::string> more = {"card.key", "agent.toml"};
  auto write_bundle = [&]() -> Status {
    ANSHIN_RETURN_IF_ERROR(WriteCertFiles(o.out_dir, issued));
    ANSHIN_RETURN_IF_ERROR(
        sys::WriteFileAtomic(o.out_dir / "card.key", Trim(card_key) + "\n", kPrivate));
    std::string toml =
        "# anshin-agent configuration, written by `anshin-admin agent enroll`.\n[agent]\nname = " +
        TomlString(o.name) +
        "\ndatabase = \"agent.db\"\ncard_key = \"card.key\"\n\n[uplink]\nserver_url = " +
        TomlString(o.server_url) + "\ncert = \"agent.crt\"\nkey = \"agent.key\"\nca = \"ca.crt\"\n";
    return sys::WriteFileAtomic(o.out_dir / "agent.toml", toml, kPublic);
  };
  auto remove_bundle = [&] { RemoveFiles(o.out_dir, issued, more); };
  store::Agent a;
  a.name = o.name;
  a.facility = f.id;
  a.cert_sha256 = issued.sha256;
  a.cert_not_after = issued.not_after;
  a.enrolled_at = now;
  Result<AgentId> id = agents_.Enroll(
      a, store::Actor{user_, now},
      [&]() -> Status {
        Status s = write_bundle();
        if (!s.ok()) remove_bundle();
        return s;
      },
      remove_bundle);
  if (!id.ok()) return id.status();
  return EnrollResult{*id, issued.sha256, issued.not_after};
}

Result<RenewResult> Admin::AgentRenew(const RenewOptions& o) {
  if (o.days < 1 || o.days > kAgentCertValidity.count()) {
    return Status::InvalidArgument("days: must be 1 to " +
                                   std::to_string(kAgentCertValidity.count()));
  }
  ANSHIN_ASSIGN_OR_RETURN(store::Agent before, agents_.Get(o.name));
  if (before.status == store::AgentStatus::kRevoked) {
    return Status::FailedPrecondition("agent " + o.name +
                                      " is revoked; enrol a new certificate under a new name");
  }
  const TimePoint now = clock_->Now();
  ANSHIN_ASSIGN_OR_RETURN(IssuedAgentCert issued,
                          IssueAgentCert(home_, o.name, o.csr, now, std::chrono::days(o.days)));
  // As for enroll: the files exist only if the store took the new fingerprint.
  auto remove = [&] { RemoveFiles(o.out_dir, issued); };
  ANSHIN_ASSIGN_OR_RETURN(store::Agent old,
                          agents_.Renew(
                              o.name, issued.sha256, issued.not_after, store::Actor{user_, now},
                              [&]() -> Status {
                                Status s = WriteCertFiles(o.out_dir, issued);
                                if (!s.ok()) remove();
                                return s;
                              },
                              remove));
  return RenewResult{issued.sha256, old.cert_sha256, issued.not_after};
}

Status Admin::AgentSetStatus(const std::string& name, store::AgentStatus status) {
  return agents_.SetStatus(name, status, Who());
}

Result<std::vector<store::Agent>> Admin::AgentList() { return agents_.List(); }

Result<store::Agent> Admin::AgentAcceptGap(const std::string& name) {
  return agents_.AcceptGap(name, Who());
}

Result<std::vector<store::SkewSample>> Admin::AgentSkew(const std::string& name, TimePoint since) {
  return agents_.SkewHistory(name, since);
}

// ---- children, cards, guardians ------------------------------------------------------------

Result<ChildSchedule> ParseExpectedDeparture(std::string_view text) {
  static constexpr std::string_view kDays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  ChildSchedule s;
  while (!text.empty()) {
    auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    auto eq = item.find('=');
    if (eq == std::string_view::npos) {
      return Status::InvalidArgument("expected-departure: \"" + std::string(item) +
                                     "\" is not day=HH:MM");
    }
    std::string_view day = item.substr(0, eq);
    int index = -1;
    for (int d = 0; d < 7; ++d) {
      if (kDays[d] == day) index = d;
    }
    if (index < 0)
      return Status::InvalidArgument("expected-departure: unknown day \"" + std::string(day) +
                                     "\"");
    auto t = LocalTime::Parse(item.substr(eq + 1));
    if (!t.ok()) return Status::InvalidArgument("expected-departure: " + t.status().message());
    s.expected_departure[index] = *t;
  }
  return s;
}

Result<ChildId> Admin::ChildAdd(const std::string& facility_code, const std::string& name,
                                const std::string& expected_departure) {
  ChildInput in;
  in.facility_code = facility_code;
  in.name = name;
  in.expected_departure = expected_departure;
  return ChildAdd(in);
}

Result<ChildId> Admin::ChildAdd(const ChildInput& in) {
  ANSHIN_ASSIGN_OR_RETURN(store::Facility f, facilities_.ByCode(in.facility_code));
  store::Child c;
  c.name = in.name;
  c.facility = f.id;
  ANSHIN_ASSIGN_OR_RETURN(c.schedule, ParseExpectedDeparture(in.expected_departure));
  c.number = in.number;
  c.kana = in.kana;
  c.grade = in.grade;
  ANSHIN_ASSIGN_OR_RETURN(c.attend_days, services::ParseWeekdays(in.attends));
  return children_.Add(c, Who());
}

Result<CardKey> Admin::HomeCardKey() const {
  ANSHIN_ASSIGN_OR_RETURN(std::string key_text, sys::ReadFile(home_ / "card.key"));
  return CardKey::Parse(Trim(key_text));
}

Result<std::string> Admin::ChildUpdate(ChildId id, const ChildChanges& in) {
  ANSHIN_ASSIGN_OR_RETURN(store::Child before, children_.Get(id));
  store::Child c = before;
  if (in.facility_code) {
    ANSHIN_ASSIGN_OR_RETURN(store::Facility f, facilities_.ByCode(*in.facility_code));
    c.facility = f.id;
  }
  if (in.name) c.name = *in.name;
  if (in.number) c.number = *in.number;
  if (in.kana) c.kana = *in.kana;
  if (in.grade) c.grade = *in.grade;
  if (in.attends) {
    ANSHIN_ASSIGN_OR_RETURN(c.attend_days, services::ParseWeekdays(*in.attends));
  }
  static constexpr const char* kDays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  for (int d = 0; d < 7; ++d) {
    const std::optional<std::string>& text = in.departures[d];
    if (!text) continue;
    if (*text == "none") {
      c.schedule.expected_departure[d].reset();
      continue;
    }
    Result<LocalTime> t = LocalTime::Parse(*text);
    if (!t.ok()) {
      return Status::InvalidArgument(std::string("departure-") + kDays[d] + ": " +
                                     t.status().message() + " (HH:MM or none)");
    }
    c.schedule.expected_departure[d] = *t;
  }
  ANSHIN_RETURN_IF_ERROR(children_.Update(c, Who()));
  return services::ChangedChildFields(before, c);
}

Result<std::int64_t> Admin::ChildAbsent(ChildId id, const LocalDate& from, const LocalDate& to,
                                        const std::string& reason) {
  return children_.RecordAbsence(id, from, to, reason, Who());
}

Status Admin::FacilityCalendar(const std::string& code, const LocalDate& from, const LocalDate& to,
                               bool closed, std::optional<LocalTime> expected_arrival_by) {
  ANSHIN_ASSIGN_OR_RETURN(store::Facility f, facilities_.ByCode(code));
  return facilities_.SetCalendar(f.id, from, to, closed, expected_arrival_by, Who());
}

Result<int> Admin::ChildWithdraw(ChildId id, std::optional<LocalDate> date) {
  TimePoint at = clock_->Now();
  if (date) {
    ANSHIN_ASSIGN_OR_RETURN(store::Child c, children_.Get(id));
    ANSHIN_ASSIGN_OR_RETURN(store::Facility f, store::InRead(*store_, [&](store::ReadTxn& txn) {
                              return txn.facilities().Get(c.facility);
                            }));
    ANSHIN_ASSIGN_OR_RETURN(std::shared_ptr<const TimeZone> zone, ZoneOf(f));
    at = zone->At(*date, LocalTime{0});
  }
  return children_.Withdraw(id, at, Who());
}

Result<CardToken> Admin::TokenOfIdm(const std::string& idm_hex) const {
  ANSHIN_ASSIGN_OR_RETURN(Idm idm, Idm::Parse(idm_hex));
  ANSHIN_ASSIGN_OR_RETURN(CardKey key, HomeCardKey());
  return key.TokenOf(idm);
}

Result<CardToken> Admin::CardAssign(ChildId child, const std::string& idm_hex) {
  ANSHIN_ASSIGN_OR_RETURN(CardToken token, TokenOfIdm(idm_hex));
  ANSHIN_RETURN_IF_ERROR(cards_.Assign(child, token, Who()));
  return token;
}

Status Admin::CardLost(const CardToken& token) { return cards_.MarkLost(token, Who()); }
Result<CardToken> Admin::CardLostOfChild(ChildId child) {
  return cards_.MarkChildCardLost(child, Who());
}
Result<store::Card> Admin::CardFound(const CardToken& token) {
  return cards_.MarkFound(token, Who());
}
Result<store::Card> Admin::CardRetire(const CardToken& token) {
  return cards_.Retire(token, Who());
}
Result<std::pair<store::Card, CardToken>> Admin::CardReplace(ChildId child,
                                                             const std::string& idm_hex) {
  ANSHIN_ASSIGN_OR_RETURN(CardToken token, TokenOfIdm(idm_hex));
  ANSHIN_ASSIGN_OR_RETURN(store::Card old, cards_.Replace(child, token, Who()));
  return std::pair{std::move(old), token};
}
Result<std::vector<store::Card>> Admin::CardList(std::optional<CardStatus> status) {
  return cards_.List(status);
}
Result<std::vector<store::CardStatusChange>> Admin::CardHistory(const CardToken& token) {
  return cards_.History(token);
}

Result<services::VerificationTicket> Admin::GuardianAdd(const GuardianOptions& o) {
  store::Guardian g;
  g.child = o.child;
  g.email = o.email;
  g.wants_arrival = o.arrival;
  g.wants_departure = o.departure;
  g.charset = o.iso_2022_jp ? store::Charset::kIso2022Jp : store::Charset::kUtf8;
  return guardians_.Add(g, Who());
}

// The operator typed the code the guardian read out: one transaction, audited as the operator.
Status Admin::GuardianVerify(GuardianId id, const std::string& code) {
  return guardians_.VerifyByCode(id, code, Who());
}

Result<import::ImportReport> Admin::ImportApplications(const import::ParsedApplications& parsed,
                                                       const import::ImportOptions& options) {
  return import::ImportApplications(*store_, children_, guardians_, parsed, Who(), options);
}

Status Admin::AuditVerify() {
  return store::InRead(*store_,
                       [](store::ReadTxn& txn) { return services::VerifyAuditChain(txn); });
}

}  // namespace anshin::admin
