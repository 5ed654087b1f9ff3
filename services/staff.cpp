#include "services/staff.hpp"

#include <sodium.h>

#include <cstdlib>
#include <memory>
#include <utility>

#include "common/validate.hpp"
#include "services/audit_log.hpp"

namespace anshin::services {
namespace {

constexpr std::string_view kBadLogin = "名前またはパスワードが違います";

std::string Hex(const unsigned char* p, std::size_t n) {
  std::string out(n * 2, '\0');
  sodium_bin2hex(out.data(), out.size() + 1, p, n);
  return out;
}

std::size_t CountChars(std::string_view s) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t len = Utf8CharLength(s, i);
    i += len == 0 ? 1 : len;
    ++n;
  }
  return n;
}

void EnsureSodium() {
  // sodium_init() is idempotent and thread-safe; it fails only without a randomness source.
  static const bool ok = sodium_init() >= 0;
  if (!ok) std::abort();
}

// Verifying against this for an unknown name takes as long as for a known one, so the time
// of an answer does not tell which names exist.
const std::string& DummyHash() {
  static const std::string h = HashPassword("not-a-password-of-anyone").value();
  return h;
}

store::Actor Self(const store::Staff& s, TimePoint now) { return {"staff:" + s.name, now}; }

std::string Detail(const store::Staff& s) {
  return "staff=" + s.id.ToString() + " role=" + std::string(store::kStaffRoleNames.Name(s.role));
}

}  // namespace

Status CheckStaffName(std::string_view name) {
  if (name.empty() || name.size() > 64)
    return Status::InvalidArgument("staff name: must be 1 to 64 characters");
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok)
      return Status::InvalidArgument(
          "staff name: only letters, digits, '-', '_' and '.' are allowed");
  }
  return Status::Ok();
}

Status CheckPassword(std::string_view password) {
  if (password.size() > 1024) return Status::InvalidArgument("password: at most 1024 bytes");
  if (CountChars(password) < kMinPasswordChars)
    return Status::InvalidArgument("password: at least 12 characters");
  return Status::Ok();
}

Result<std::string> HashPassword(std::string_view password) {
  EnsureSodium();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
    return Status::Internal("crypto_pwhash_str: out of memory");
  return std::string(out);
}

bool PasswordMatches(std::string_view hash, std::string_view password) {
  const std::string h(hash);  // NUL-terminated for libsodium
  return crypto_pwhash_str_verify(h.c_str(), password.data(), password.size()) == 0;
}

std::string NewSecretToken() {
  EnsureSodium();
  unsigned char b[32];
  randombytes_buf(b, sizeof b);
  return Hex(b, sizeof b);
}

std::string SessionIdHash(std::string_view cookie_value) {
  unsigned char h[32];
  crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(cookie_value.data()),
                     cookie_value.size(), nullptr, 0);
  return Hex(h, sizeof h);
}

bool SameToken(std::string_view a, std::string_view b) {
  return a.size() == b.size() && !a.empty() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

Result<store::StaffId> StaffAccounts::Add(const NewStaff& s, std::string_view password,
                                          const store::Actor& who) {
  ANSHIN_RETURN_IF_ERROR(CheckStaffName(s.name));
  ANSHIN_RETURN_IF_ERROR(CheckPassword(password));
  if (!s.email.empty()) ANSHIN_RETURN_IF_ERROR(CheckEmailAddress(s.email));
  const bool facility_role = s.role == store::StaffRole::kFacility;
  if (facility_role && s.facility_code.empty())
    return Status::InvalidArgument("facility: the facility role needs --facility");
  if (!facility_role && !s.facility_code.empty())
    return Status::InvalidArgument("facility: only the facility role is bound to a facility");
  ANSHIN_ASSIGN_OR_RETURN(std::string hash, HashPassword(password));

  ANSHIN_ASSIGN_OR_RETURN(std::unique_ptr<store::WriteTxn> txn, store_.BeginWrite());
  store::Staff row;
  row.name = s.name;
  row.role = s.role;
  row.email = s.email;
  row.password_hash = std::move(hash);
  row.created_at = row.password_changed_at = who.at;
  if (facility_role) {
    ANSHIN_ASSIGN_OR_RETURN(std::optional<store::Facility> f,
                            txn->facilities().FindByCode(s.facility_code));
    if (!f) return Status::NotFound("facility " + s.facility_code);
    row.facility = f->id;
  }
  ANSHIN_ASSIGN_OR_RETURN(std::optional<store::Staff> existing, txn->staff().FindByName(s.name));
  if (existing) return Status::AlreadyExists("staff " + s.name + " already exists");
  ANSHIN_ASSIGN_OR_RETURN(row.id, txn->staff().Insert(row));
  std::string detail = Detail(row) + " name=" + row.name;
  if (row.facility) detail += " facility=" + row.facility->ToString();
  ANSHIN_RETURN_IF_ERROR(AppendAudit(*txn, who, "staff.add", detail));
  ANSHIN_RETURN_IF_ERROR(txn->Commit());
  return row.id;
}

Status StaffAccounts::Disable(std::string_view name, const store::Actor& who) {
  ANSHIN_ASSIGN_OR_RETURN(std::unique_ptr<store::WriteTxn> txn, store_.BeginWrite());
  ANSHIN_ASSIGN_OR_RETURN(std::optional<store::Staff> s, txn->staff().FindByName(name));
  if (!s) return Status::NotFound("staff " + std::string(name));
  ANSHIN_RETURN_IF_ERROR(txn->staff().SetStatus(s->id, store::StaffStatus::kDisabled));
  ANSHIN_ASSIGN_OR_RETURN(int ended, txn->staff().DeleteSessionsOf(s->id));
  ANSHIN_RETURN_IF_ERROR(
      AppendAudit(*txn, who, "staff.disable",
                  Detail(*s) + " name=" + s->name + " sessions_ended=" + std::to_string(ended)));
  return txn->Commit();
}

Status StaffAccounts::Enable(std::string_view name, const store::Actor& who) {
  ANSHIN_ASSIGN_OR_RETURN(std::unique_ptr<store::WriteTxn> txn, store_.BeginWrite());
  ANSHIN_ASSIGN_OR_RETURN(std::optional<store::Staff> s, txn->staff().FindByName(name));
  if (!s) return Status::NotFound("staff " + std::string(name));
  ANSHIN_RETURN_IF_ERROR(txn->staff().SetStatus(s->id, store::StaffStatus::kActive));
  ANSHIN_RETURN_IF_ERROR(AppendAudit(*txn, who, "staff.enable", Detail(*s) + " name=" + s->name));
  return txn->Commit();
}

Status StaffAccounts::SetPassword(std::string_view name, std::string_view password,
                                  const store::Actor& who) {
  ANSHIN_RETURN_IF_ERROR(CheckPassword(password));
  ANSHIN_ASSIGN_OR_RETURN(std::string hash, HashPassword(password));
  ANSHIN_ASSIGN_OR_RETURN(std::unique_ptr<store::WriteTxn> txn, store_.BeginWrite());
  ANSHIN_ASSIGN_OR_RETURN(std::optional<store::Staff> s, txn->staff().FindByName(name));
  if (!s) return Status::NotFound("staff " + std::string(name));
  ANSHIN_RETURN_IF_ERROR(txn->staff().SetPassword(s->id, hash, who.at));
  ANSHIN_RETURN_IF_ERROR(txn->staff().SetLoginState(s->id, 0, std::nullopt));
  ANSHIN_ASSIGN_OR_RETURN(int ended, txn->staff().DeleteSessionsOf(s->id));
  ANSHIN_RETURN_IF_ERROR(
      AppendAudit(*txn, who, "staff.passwd",
                  Detail(*s) + " name=" + s->name + " sessions_ended=" + std::to_string(ended)));
  return txn->Commit();
}

Result<std::vector<store::Staff>> StaffAccounts::List() {
  return store::InRead(store_, [](store::ReadTxn& t) { return t.staff().List(); });
}

Status StaffAccounts::RecordFailure(const store::Staff& s, TimePoint now) {
  const int failures = s.failed_logins + 1;
  const bool lock = failures >= kMaxFailedLogins;
  ANSHIN_ASSIGN_OR_RETURN(std::unique_ptr<store::WriteTxn> txn, store_.BeginWrite());
  ANSHIN_RETURN_IF_ERROR(txn->staff().SetLoginState(
      s.id, lock ? 0 : failures,
      lock ? std::optional<TimePoint>(now + kLockOutFor) : s.locked_until));
  ANSHIN_RETURN_IF_ERROR(AppendAudit(*txn, Self(s, now), "staff.login_failed",
                                     Detail(s) + " failures=" + std::to_string(failures)));
  if (lock) {
    ANSHIN_RETURN_IF_ERROR(AppendAudit(*txn, Self(s, now), "staff.locked",
                                       Detail(s) + " until=" + FormatRfc3339(now + kLockOutFor)));
  }
  return txn->Commit();
}

Result<StaffLogin> StaffAccounts::Login(std::string_view name, std::string_view password) {
  const TimePoint now = clock_.Now();
  ANSHIN_ASSIGN_OR_RETURN(
      std::optional<store::Staff> s,
      store::InRead(store_, [&](store::ReadTxn& t) { return t.staff().FindByName(name); }));
  if (!s) {
    (void)PasswordMatches(DummyHash(), password);
    ANSHIN_RETURN_IF_ERROR(store::InWrite(store_, [&](store::WriteTxn& t) {
      return AppendAudit(t, {"console", now}, "staff.login_failed", "account=unknown");
    }));
    return Status::Unauthenticated(std::string(kBadLogin));
  }
  if (s->locked_until && *s->locked_until > now) {
    ANSHIN_RETURN_IF_ERROR(store::InWrite(store_, [&](store::WriteTxn& t) {
      return AppendAudit(t, Self(*s, now), "staff.login_failed", Detail(*s) + " locked");
    }));
    return Status::PermissionDenied(
        "アカウントはロックされています。しばらくしてからお試しください");
  }
  if (!PasswordMatches(s->password_hash, password)) {
    ANSHIN_RETURN_IF_ERROR(RecordFailure(*s, now));
    return Status::Unauthenticated(std::string(kBadLogin));
  }
  if (s->status != store::StaffStatus::kActive) {
    ANSHIN_RETURN_IF_ERROR(store::InWrite(store_, [&](store::WriteTxn& t) {
      return AppendAudit(t, Self(*s, now), "staff.login_failed", Detail(*s) + " disabled");
    }));
    return Status::Unauthenticated(std::string(kBadLogin));
  }
  StaffLogin out;
  out.cookie_value = NewSecretToken();
  out.session = {SessionIdHash(out.cookie_value), s->id, NewSecretToken(), now, now};
  ANSHIN_ASSIGN_OR_RETURN(std::unique_ptr<store::WriteTxn> txn, store_.BeginWrite());
  ANSHIN_RETURN_IF_ERROR(txn->staff().SetLoginState(s->id, 0, std::nullopt));
  ANSHIN_RETURN_IF_ERROR(txn->staff().InsertSession(out.session));
  ANSHIN_RETURN_IF_ERROR(AppendAudit(*txn, Self(*s, now), "staff.login", Detail(*s)));
  ANSHIN_RETURN_IF_ERROR(txn->Commit());
  s->failed_logins = 0;
  s->locked_until.reset();
  out.staff = std::move(*s);
  return out;
}

Result<StaffContext> StaffAccounts::Authenticate(std::string_view cookie_value) {
  if (cookie_value.empty()) return Status::Unauthenticated("no session");
  const TimePoint now = clock_.Now();
  const std::string id_hash = SessionIdHash(cookie_value);
  ANSHIN_ASSIGN_OR_RETURN(std::unique_ptr<store::WriteTxn> txn, store_.BeginWrite());
  ANSHIN_ASSIGN_OR_RETURN(std::optional<store::StaffSession> session,
                          txn->staff().FindSession(id_hash));
  if (!session) return Status::Unauthenticated("no session");
  ANSHIN_ASSIGN_OR_RETURN(store::Staff s, txn->staff().Get(session->staff));
  const bool expired =
      now - session->last_seen_at >= kSessionIdle || now - session->created_at >= kSessionAbsolute;
  if (expired || s.status != store::StaffStatus::kActive) {
    ANSHIN_RETURN_IF_ERROR(txn->staff().DeleteSession(id_hash));
    ANSHIN_RETURN_IF_ERROR(txn->Commit());
    return Status::Unauthenticated(expired ? "session expired" : "account disabled");
  }
  ANSHIN_RETURN_IF_ERROR(txn->staff().TouchSession(id_hash, now));
  ANSHIN_RETURN_IF_ERROR(txn->Commit());
  session->last_seen_at = now;
  return StaffContext{std::move(s), std::move(*session)};
}

Status StaffAccounts::Logout(std::string_view cookie_value) {
  const TimePoint now = clock_.Now();
  const std::string id_hash = SessionIdHash(cookie_value);
  ANSHIN_ASSIGN_OR_RETURN(std::unique_ptr<store::WriteTxn> txn, store_.BeginWrite());
  ANSHIN_ASSIGN_OR_RETURN(std::optional<store::StaffSession> session,
                          txn->staff().FindSession(id_hash));
  if (!session) return Status::Ok();
  ANSHIN_ASSIGN_OR_RETURN(store::Staff s, txn->staff().Get(session->staff));
  ANSHIN_RETURN_IF_ERROR(txn->staff().DeleteSession(id_hash));
  ANSHIN_RETURN_IF_ERROR(AppendAudit(*txn, Self(s, now), "staff.logout", Detail(s)));
  return txn->Commit();
}

}  // namespace anshin::services
