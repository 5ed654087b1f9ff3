// Guardians: registering guardians' addresses and verifying them (DESIGN.md §6: a typo must
// never send a child's whereabouts to a stranger, so attendance mail goes only to verified
// addresses).
//
// Rules:
//   - an address is checked by CheckEmailAddress (the same rule the mail composer applies);
//   - a child has at most `max_per_child` guardians, and an address at most once per child;
//   - a new guardian starts unverified, with a verification mail queued in the same
//     transaction: a 6-digit code and a 128-bit link token, valid for `code_lifetime`;
//     both are stored only as keyed hashes, and in clear only in the outbox row until sent;
//   - at most `max_sends_per_day` verification mails per guardian in a rolling 24 h window;
//     a new one makes the previous code and link dead (unsent earlier mails are dropped);
//   - at most `max_attempts` wrong codes, then a new code must be sent; every attempt counts
//     even when it fails (the attempt is committed, the failure returned);
//   - a changed address is checked like a new one, refused when the child already has it, and
//     starts unverified with a new verification mail; mail queued for the old address is
//     dropped (it must not go to the new one) and the bouncing flag is cleared;
//   - a removed guardian's address is erased and its queued mail dropped; the row stays for the
//     send history, and no longer counts towards `max_per_child`.
// Every change is audited with its actor in the same transaction. Add runs in its own
// transaction; AddIn applies the same rules inside a caller's (an import that commits all or
// nothing). Thread-safe; blocks on the store.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.hpp"
#include "common/time.hpp"
#include "store/store.hpp"

namespace anshin::services {

struct GuardianLimits {
  int max_per_child = 4;
  Millis code_lifetime{24 * 3600 * 1000};
  int max_attempts = 5;
  int max_sends_per_day = 5;
};

// What Add / ResendVerification created: the code and link token in clear (the mail needs
// them), the outbox row that carries them, and when they expire.
struct VerificationTicket {
  GuardianId guardian;
  std::string code;        // 6 digits
  std::string link_token;  // 32 hex characters
  TimePoint expires_at;
  std::int64_t outbox_id = 0;
};

// Whether two addresses are the same guardian's: compared without regard to case, as mail
// systems treat them (the "at most once per child" rule).
bool SameAddress(std::string_view a, std::string_view b);

// What `guardian update` / `guardian prefs` change; unset fields stay as they are.
struct GuardianChange {
  std::optional<std::string> email;
  std::optional<bool> arrival;    // receives arrival mails
  std::optional<bool> departure;  // receives departure, inferred departure and correction mails
  std::optional<store::Charset> charset;
};

// What Update did: the names of the fields that changed ("email", "arrival", "departure",
// "charset"; empty: nothing) and the verification mail a changed address got.
struct GuardianUpdate {
  std::vector<std::string> changed;
  std::optional<VerificationTicket> verification;
  int dropped_mails = 0;  // queued mail for the old address, dropped
};

class Guardians {
 public:
  explicit Guardians(store::Store& store, GuardianLimits limits = {})
      : store_(store), limits_(limits) {}

  const GuardianLimits& limits() const { return limits_; }

  Result<VerificationTicket> Add(const store::Guardian& g, const store::Actor& who);
  Result<VerificationTicket> AddIn(store::WriteTxn& txn, const store::Guardian& g,
                                   const store::Actor& who);
  // A new code and link (the old ones stop working); rate-limited per day.
  Result<VerificationTicket> ResendVerification(GuardianId id, const store::Actor& who);
  // A code read out by the guardian (to the call centre, or typed by an operator).
  Status VerifyByCode(GuardianId id, std::string_view code, const store::Actor& who);
  // The link from the verification mail (the public page). NotFound for an unknown or used
  // link, FailedPrecondition when expired.
  Result<GuardianId> VerifyByLink(std::string_view link_token, TimePoint now);
  // The address and the code from the verification mail, typed on the public page (the letter's
  // QR code opens it): every pending, unexpired code of a guardian with this address is tried in
  // one transaction (siblings' guardians share an address). A match verifies that guardian; no
  // match counts a wrong attempt on each of them (InvalidArgument); NotFound when nothing is
  // pending for the address. Audited as guardian.verified by=address.
  Result<GuardianId> VerifyByAddress(std::string_view email, std::string_view code, TimePoint now);
  Result<GuardianUpdate> Update(GuardianId id, const GuardianChange& change,
                                const store::Actor& who);
  // Returns how many queued mails were dropped.
  Result<int> Remove(GuardianId id, const store::Actor& who);
  Result<store::Guardian> Get(GuardianId id);

 private:
  Result<VerificationTicket> IssueVerification(store::WriteTxn& txn, const store::Guardian& g,
                                               TimePoint now);

  store::Store& store_;
  const GuardianLimits limits_;
};

}  // namespace anshin::services
