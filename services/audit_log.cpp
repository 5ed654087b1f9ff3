#include "services/audit_log.hpp"

#include <sodium.h>

namespace anshin::services {

std::string AuditHash(std::string_view prev_hash, TimePoint at, std::string_view actor,
                      std::string_view action, std::string_view detail) {
  std::string content(prev_hash);
  content += '\n';
  content += std::to_string(ToUnixMillis(at));
  content += '\n';
  content += actor;
  content += '\n';
  content += action;
  content += '\n';
  content += detail;
  unsigned char h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(h, reinterpret_cast<const unsigned char*>(content.data()), content.size());
  std::string hex(2 * sizeof h, '\0');
  sodium_bin2hex(hex.data(), hex.size() + 1, h, sizeof h);
  return hex;
}

Status AppendAudit(store::WriteTxn& txn, const store::Actor& who, std::string_view action,
                   std::string_view detail) {
  ANSHIN_ASSIGN_OR_RETURN(std::optional<store::AuditEntry> last, txn.audit().Last());
  store::AuditEntry e;
  e.at = who.at;
  e.actor = who.user;
  e.action = std::string(action);
  e.detail = std::string(detail);
  e.prev_hash = last ? last->hash : std::string(kAuditGenesisHash);
  e.hash = AuditHash(e.prev_hash, e.at, e.actor, e.action, e.detail);
  return txn.audit().Append(e).status();
}

Status VerifyAuditChain(store::ReadTxn& txn) {
  ANSHIN_ASSIGN_OR_RETURN(std::vector<store::AuditEntry> entries, txn.audit().List());
  std::string prev(kAuditGenesisHash);
  for (const store::AuditEntry& e : entries) {
    if (e.prev_hash != prev) {
      return Status::Internal("audit_log row " + std::to_string(e.id) +
                              ": prev_hash does not match the previous row");
    }
    if (AuditHash(prev, e.at, e.actor, e.action, e.detail) != e.hash) {
      return Status::Internal("audit_log row " + std::to_string(e.id) +
                              ": hash does not match its content");
    }
    prev = e.hash;
  }
  return Status::Ok();
}

}  // namespace anshin::services
