// Staff: console accounts, their passwords and sessions (DESIGN.md §7; docs/console.md).
//
// Rules:
//   - a name is 1 to 64 ASCII letters, digits, '-', '_' and '.', unique; the facility role is
//     bound to exactly one existing facility, the other roles to none; an e-mail, when given,
//     passes CheckEmailAddress;
//   - a password has at least 12 characters (at most 1024 bytes) and is stored only as an
//     argon2id hash (libsodium crypto_pwhash_str, OPSLIMIT/MEMLIMIT_INTERACTIVE);
//   - 5 consecutive failed logins lock the account for 15 minutes (a correct password is
//     refused meanwhile); a successful login resets the count; a disabled account cannot log in;
//   - a session is a 256-bit random cookie value of which only the BLAKE2b hash is stored; it
//     ends 30 minutes after its last request or 12 hours after the login, whichever is first;
//     each session has its own CSRF token, compared in constant time;
//   - disabling an account or changing its password ends its sessions;
//   - every login, failed login, lock-out, logout and account change is audited with the
//     account's name as actor (or as target for changes) and never a password; a failed login
//     for an unknown name is audited without the name typed (it may be a password).
// Thread-safe; blocks on the store. Hashing a password takes ~0.1 s and 64 MiB: callers on an
// event loop run Login(), Add() and SetPassword() on a worker.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.hpp"
#include "common/time.hpp"
#include "store/store.hpp"

namespace anshin::services {

inline constexpr std::size_t kMinPasswordChars = 12;
inline constexpr int kMaxFailedLogins = 5;
inline constexpr Millis kLockOutFor = std::chrono::minutes(15);
inline constexpr Millis kSessionIdle = std::chrono::minutes(30);
inline constexpr Millis kSessionAbsolute = std::chrono::hours(12);

Status CheckStaffName(std::string_view name);
Status CheckPassword(std::string_view password);  // length only (characters, not bytes)

Result<std::string> HashPassword(std::string_view password);
bool PasswordMatches(std::string_view hash, std::string_view password);

// 256 random bits as 64 lowercase hex characters (session cookies, CSRF tokens).
std::string NewSecretToken();
// Hex BLAKE2b-256 of a session cookie's value: what the store keeps.
std::string SessionIdHash(std::string_view cookie_value);
// Constant-time comparison of two tokens (lengths are not secret).
bool SameToken(std::string_view a, std::string_view b);

struct NewStaff {
  std::string name;
  store::StaffRole role = store::StaffRole::kCallCenter;
  std::string facility_code;  // the facility role's facility; empty for the others
  std::string email;
};

// A successful login: the cookie value to hand to the browser (never stored) and the session.
struct StaffLogin {
  store::Staff staff;
  std::string cookie_value;
  store::StaffSession session;
};

// An authenticated request's account and session.
struct StaffContext {
  store::Staff staff;
  store::StaffSession session;
};

class StaffAccounts {
 public:
  StaffAccounts(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  Result<store::StaffId> Add(const NewStaff& s, std::string_view password, const store::Actor& who);
  Status Disable(std::string_view name, const store::Actor& who);
  Status Enable(std::string_view name, const store::Actor& who);
  // Sets a new password, clears a lock-out and ends the account's sessions.
  Status SetPassword(std::string_view name, std::string_view password, const store::Actor& who);
  Result<std::vector<store::Staff>> List();

  // Unauthenticated("名前またはパスワードが違います") for an unknown name, a wrong password or a
  // disabled account; PermissionDenied when locked out. Both say nothing more to the client.
  Result<StaffLogin> Login(std::string_view name, std::string_view password);
  // The session of this cookie, touched; Unauthenticated when unknown, expired (then deleted)
  // or the account is disabled.
  Result<StaffContext> Authenticate(std::string_view cookie_value);
  // Ends the session (audited); ok when there is none.
  Status Logout(std::string_view cookie_value);

 private:
  Status RecordFailure(const store::Staff& s, TimePoint now);

  store::Store& store_;
  const Clock& clock_;
};

}  // namespace anshin::services
