#include "services/guardians.hpp"

#include <sodium.h>

#include <algorithm>
#include <cctype>

#include "common/validate.hpp"
#include "services/audit_log.hpp"

namespace anshin::services {
namespace {

std::string Hex(const unsigned char* p, std::size_t n) {
  std::string out(n * 2, '\0');
  sodium_bin2hex(out.data(), out.size() + 1, p, n);
  return out;
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

std::string NewCode() {
  std::string code = std::to_string(randombytes_uniform(1000000));
  return std::string(6 - code.size(), '0') + code;
}

std::string NewLinkToken() {
  unsigned char b[16];
  randombytes_buf(b, sizeof b);
  return Hex(b, sizeof b);
}

bool SameHash(const std::string& a, const std::string& b) {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

Status MarkVerified(store::WriteTxn& txn, GuardianId id, store::VerificationState v,
                    TimePoint now) {
  v.verified = true;
  v.verified_at = now;
  v.code_hash.reset();
  v.code_expires_at.reset();
  v.code_attempts = 0;
  v.link_hash.reset();
  return txn.guardians().SetVerification(id, v);
}

std::string Joined(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

Result<store::Guardian> CurrentGuardian(store::WriteTxn& txn, GuardianId id) {
  ANSHIN_ASSIGN_OR_RETURN(store::Guardian g, txn.guardians().Get(id));
  if (g.removed) return Status::FailedPrecondition("guardian " + id.ToString() + " was removed");
  return g;
}

}  // namespace

// Addresses are compared without regard to case: mail systems treat them alike.
bool SameAddress(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

Result<VerificationTicket> Guardians::IssueVerification(store::WriteTxn& txn,
                                                        const store::Guardian& g, TimePoint now) {
  ANSHIN_ASSIGN_OR_RETURN(store::VerificationState v, txn.guardians().Verification(g.id));
  if (!v.sends_window_start || now - *v.sends_window_start >= std::chrono::hours(24)) {
    v.sends_window_start = now;
    v.sends_in_window = 0;
  }
  if (v.sends_in_window >= limits_.max_sends_per_day) {
    return Status::ResourceExhausted("guardian " + g.id.ToString() +
                                     ": verification mail limit reached for today");
  }
  ANSHIN_ASSIGN_OR_RETURN(store::Child child, txn.children().Get(g.child));
  VerificationTicket t;
  t.guardian = g.id;
  t.code = NewCode();
  t.link_token = NewLinkToken();
  t.expires_at = now + limits_.code_lifetime;
  v.code_hash = CodeHash(g.id, t.code);
  v.code_expires_at = t.expires_at;
  v.code_attempts = 0;
  v.link_hash = LinkHash(t.link_token);
  ++v.sends_in_window;
  ANSHIN_RETURN_IF_ERROR(txn.guardians().SetVerification(g.id, v));
  // Earlier verification mails not yet sent would carry dead codes: drop their secrets.
  ANSHIN_RETURN_IF_ERROR(
      txn.outbox()
          .DropPendingVerification(g.id, "superseded by a newer verification mail")
          .status());
  store::OutboxMessage m;
  m.kind = store::OutboxKind::kVerification;
  m.guardian = g.id;
  m.child = g.child;
  m.facility = child.facility;
  m.verification_code = t.code;
  m.link_token = t.link_token;
  m.created_at = now;
  ANSHIN_ASSIGN_OR_RETURN(t.outbox_id, txn.outbox().Insert(m));
  return t;
}

Result<VerificationTicket> Guardians::Add(const store::Guardian& g, const store::Actor& who) {
  return store::InWrite(store_, [&](store::WriteTxn& txn) { return AddIn(txn, g, who); });
}

Result<VerificationTicket> Guardians::AddIn(store::WriteTxn& txn, const store::Guardian& g,
                                            const store::Actor& who) {
  ANSHIN_RETURN_IF_ERROR(CheckEmailAddress(g.email));
  ANSHIN_ASSIGN_OR_RETURN(store::Child child, txn.children().Get(g.child));
  if (child.status != store::ChildStatus::kEnrolled)
    return Status::FailedPrecondition("child " + g.child.ToString() + " is withdrawn");
  ANSHIN_ASSIGN_OR_RETURN(std::vector<store::Guardian> existing, txn.guardians().OfChild(g.child));
  if (static_cast<int>(existing.size()) >= limits_.max_per_child) {
    return Status::FailedPrecondition("child " + g.child.ToString() + " already has " +
                                      std::to_string(limits_.max_per_child) + " guardians");
  }
  for (const store::Guardian& e : existing) {
    if (SameAddress(e.email, g.email)) {
      return Status::AlreadyExists("child " + g.child.ToString() +
                                   " already has this address (guardian " + e.id.ToString() + ")");
    }
  }
  store::Guardian row = g;
  row.verified = false;
  row.bouncing = false;
  ANSHIN_ASSIGN_OR_RETURN(row.id, txn.guardians().Insert(row, who.at));
  ANSHIN_ASSIGN_OR_RETURN(VerificationTicket t, IssueVerification(txn, row, who.at));
  ANSHIN_RETURN_IF_ERROR(AppendAudit(
      txn, who, "guardian.add", "guardian=" + row.id.ToString() + " child=" + g.child.ToString()));
  return t;
}

Result<VerificationTicket> Guardians::ResendVerification(GuardianId id, const store::Actor& who) {
  return store::InWrite(store_, [&](store::WriteTxn& txn) -> Result<VerificationTicket> {
    ANSHIN_ASSIGN_OR_RETURN(store::Guardian g, CurrentGuardian(txn, id));
    if (g.verified)
      return Status::FailedPrecondition("guardian " + id.ToString() + " is already verified");
    ANSHIN_ASSIGN_OR_RETURN(VerificationTicket t, IssueVerification(txn, g, who.at));
    ANSHIN_RETURN_IF_ERROR(
        AppendAudit(txn, who, "guardian.resend_verification", "guardian=" + id.ToString()));
    return t;
  });
}

Status Guardians::VerifyByCode(GuardianId id, std::string_view code, const store::Actor& who) {
  // A wrong code must still commit its attempt count, so the outcome is carried out of the
  // transaction rather than returned as its failure.
  Status outcome;
  Status committed = store::InWrite(store_, [&](store::WriteTxn& txn) -> Status {
    ANSHIN_ASSIGN_OR_RETURN(store::VerificationState v, txn.guardians().Verification(id));
    if (v.verified) return Status::Ok();  // already verified: nothing to do
    if (!v.code_hash || !v.code_expires_at) {
      outcome =
          Status::FailedPrecondition("guardian " + id.ToString() + ": no verification pending");
      return Status::Ok();
    }
    if (v.code_attempts >= limits_.max_attempts) {
      outcome = Status::ResourceExhausted("guardian " + id.ToString() +
                                          ": too many wrong codes; send a new one");
      return Status::Ok();
    }
    if (who.at > *v.code_expires_at) {
      outcome = Status::FailedPrecondition("guardian " + id.ToString() +
                                           ": the code has expired; send a new one");
      return Status::Ok();
    }
    if (!SameHash(CodeHash(id, code), *v.code_hash)) {
      ++v.code_attempts;
      ANSHIN_RETURN_IF_ERROR(txn.guardians().SetVerification(id, v));
      outcome = Status::InvalidArgument("code: does not match");
      return AppendAudit(txn, who, "guardian.verify_failed", "guardian=" + id.ToString());
    }
    ANSHIN_RETURN_IF_ERROR(MarkVerified(txn, id, v, who.at));
    return AppendAudit(txn, who, "guardian.verified", "guardian=" + id.ToString() + " by=code");
  });
  ANSHIN_RETURN_IF_ERROR(committed);
  return outcome;
}

Result<GuardianId> Guardians::VerifyByLink(std::string_view link_token, TimePoint now) {
  return store::InWrite(store_, [&](store::WriteTxn& txn) -> Result<GuardianId> {
    ANSHIN_ASSIGN_OR_RETURN(std::optional<GuardianId> id,
                            txn.guardians().FindByLinkHash(LinkHash(link_token)));
    if (!id) return Status::NotFound("verification link");
    ANSHIN_ASSIGN_OR_RETURN(store::VerificationState v, txn.guardians().Verification(*id));
    if (!v.code_expires_at || now > *v.code_expires_at)
      return Status::FailedPrecondition("the verification link has expired");
    ANSHIN_RETURN_IF_ERROR(MarkVerified(txn, *id, v, now));
    ANSHIN_RETURN_IF_ERROR(AppendAudit(txn, store::Actor{"verification", now}, "guardian.verified",
                                       "guardian=" + id->ToString() + " by=link"));
    return *id;
  });
}

Result<GuardianUpdate> Guardians::Update(GuardianId id, const GuardianChange& change,
                                         const store::Actor& who) {
  return store::InWrite(store_, [&](store::WriteTxn& txn) -> Result<GuardianUpdate> {
    ANSHIN_ASSIGN_OR_RETURN(store::Guardian g, CurrentGuardian(txn, id));
    GuardianUpdate out;
    const bool new_address = change.email && !SameAddress(*change.email, g.email);
    if (new_address) {
      ANSHIN_RETURN_IF_ERROR(CheckEmailAddress(*change.email));
      ANSHIN_ASSIGN_OR_RETURN(std::vector<store::Guardian> others,
                              txn.guardians().OfChild(g.child));
      for (const store::Guardian& e : others) {
        if (e.id != id && SameAddress(e.email, *change.email)) {
          return Status::AlreadyExists("child " + g.child.ToString() +
                                       " already has this address (guardian " + e.id.ToString() +
                                       ")");
        }
      }
      g.email = *change.email;
      g.verified = false;
      g.bouncing = false;
      out.changed.push_back("email");
    }
    if (change.arrival && *change.arrival != g.wants_arrival) {
      g.wants_arrival = *change.arrival;
      out.changed.push_back("arrival");
    }
    if (change.departure && *change.departure != g.wants_departure) {
      g.wants_departure = *change.departure;
      out.changed.push_back("departure");
    }
    if (change.charset && *change.charset != g.charset) {
      g.charset = *change.charset;
      out.changed.push_back("charset");
    }
    if (out.changed.empty()) return out;
    ANSHIN_RETURN_IF_ERROR(txn.guardians().Update(g));
    if (new_address) {
      ANSHIN_ASSIGN_OR_RETURN(out.dropped_mails,
                              txn.outbox().DropPendingMail(id, "the address was changed"));
      ANSHIN_ASSIGN_OR_RETURN(VerificationTicket t, IssueVerification(txn, g, who.at));
      out.verification = std::move(t);
    }
    ANSHIN_RETURN_IF_ERROR(AppendAudit(txn, who, "guardian.update",
                                       "guardian=" + id.ToString() + " child=" +
                                           g.child.ToString() + " fields=" + Joined(out.changed)));
    return out;
  });
}

Result<int> Guardians::Remove(GuardianId id, const store::Actor& who) {
  return store::InWrite(store_, [&](store::WriteTxn& txn) -> Result<int> {
    ANSHIN_ASSIGN_OR_RETURN(store::Guardian g, CurrentGuardian(txn, id));
    ANSHIN_ASSIGN_OR_RETURN(int dropped,
                            txn.outbox().DropPendingMail(id, "the guardian was removed"));
    ANSHIN_RETURN_IF_ERROR(txn.guardians().Remove(id, who.at));
    ANSHIN_RETURN_IF_ERROR(AppendAudit(
        txn, who, "guardian.remove", "guardian=" + id.ToString() + " child=" + g.child.ToString()));
    return dropped;
  });
}

Result<GuardianId> Guardians::VerifyByAddress(std::string_view email, std::string_view code,
                                              TimePoint now) {
  Result<GuardianId> outcome = Status::NotFound("no verification pending for this address");
  Status committed = store::InWrite(store_, [&](store::WriteTxn& txn) -> Status {
    ANSHIN_ASSIGN_OR_RETURN(std::vector<GuardianId> ids, txn.guardians().FindByEmail(email));
    std::vector<std::pair<GuardianId, store::VerificationState>> pending;
    for (GuardianId id : ids) {
      ANSHIN_ASSIGN_OR_RETURN(store::VerificationState v, txn.guardians().Verification(id));
      if (v.verified || !v.code_hash || !v.code_expires_at || now > *v.code_expires_at ||
          v.code_attempts >= limits_.max_attempts)
        continue;
      if (SameHash(CodeHash(id, code), *v.code_hash)) {
        ANSHIN_RETURN_IF_ERROR(MarkVerified(txn, id, v, now));
        outcome = id;
        return AppendAudit(txn, store::Actor{"verification", now}, "guardian.verified",
                           "guardian=" + id.ToString() + " by=address");
      }
      pending.emplace_back(id, v);
    }
    if (pending.empty()) return Status::Ok();
    // A wrong code counts against every address it could have been for.
    for (auto& [id, v] : pending) {
      ++v.code_attempts;
      ANSHIN_RETURN_IF_ERROR(txn.guardians().SetVerification(id, v));
      ANSHIN_RETURN_IF_ERROR(AppendAudit(txn, store::Actor{"verification", now},
                                         "guardian.verify_failed", "guardian=" + id.ToString()));
    }
    outcome = Status::InvalidArgument("code: does not match");
    return Status::Ok();
  });
  ANSHIN_RETURN_IF_ERROR(committed);
  return outcome;
}

Result<store::Guardian> Guardians::Get(GuardianId id) {
  return store::InRead(store_, [&](store::ReadTxn& txn) { return txn.guardians().Get(id); });
}

}  // namespace anshin::services
