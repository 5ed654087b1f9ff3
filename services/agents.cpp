#include "services/agents.hpp"

#include "services/audit_log.hpp"

namespace anshin::services {

Status CheckAgentName(std::string_view name) {
  if (name.empty() || name.size() > 64)
    return Status::InvalidArgument("name: must be 1 to 64 characters");
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok)
      return Status::InvalidArgument("name: only letters, digits, '-', '_' and '.' are allowed");
  }
  return Status::Ok();
}

Result<AgentId> Agents::Enroll(const store::Agent& a, const store::Actor& who,
                               const std::function<Status()>& before_commit,
                               const std::function<void()>& undo) {
  ANSHIN_RETURN_IF_ERROR(CheckAgentName(a.name));
  ANSHIN_ASSIGN_OR_RETURN(std::unique_ptr<store::WriteTxn> txn, store_.BeginWrite());
  ANSHIN_RETURN_IF_ERROR(txn->facilities().Get(a.facility).status());
  ANSHIN_ASSIGN_OR_RETURN(std::optional<store::Agent> existing, txn->agents().Find(a.name));
  if (existing) return Status::AlreadyExists("agent " + a.name + " is already enrolled");
  store::Agent row = a;
  row.status = store::AgentStatus::kActive;
  ANSHIN_ASSIGN_OR_RETURN(AgentId id, txn->agents().Insert(row));
  ANSHIN_RETURN_IF_ERROR(AppendAudit(
      *txn, who, "agent.enroll",
      "agent=" + a.name + " facility=" + a.facility.ToString() + " cert_sha256=" + a.cert_sha256));
  if (before_commit) ANSHIN_RETURN_IF_ERROR(before_commit());
  if (Status s = txn->Commit(); !s.ok()) {
    if (undo) undo();
    return s;
  }
  return id;
}

Status Agents::SetStatus(std::string_view name, store::AgentStatus status,
                         const store::Actor& who) {
  return store::InWrite(store_, [&](store::WriteTxn& txn) -> Status {
    ANSHIN_ASSIGN_OR_RETURN(std::optional<store::Agent> agent, txn.agents().Find(name));
    if (!agent) return Status::NotFound("agent " + std::string(name));
    if (agent->status == store::AgentStatus::kRevoked && status != store::AgentStatus::kRevoked) {
      return Status::FailedPrecondition("agent " + std::string(name) +
                                        " is revoked; enrol a new certificate");
    }
    ANSHIN_RETURN_IF_ERROR(txn.agents().SetStatus(agent->id, status));
    return AppendAudit(txn, who, "agent." + std::string(store::kAgentStatusNames.Name(status)),
                       "agent=" + std::string(name));
  });
}

Result<store::Agent> Agents::Renew(std::string_view name, const std::string& cert_sha256,
                                   TimePoint not_after, const store::Actor& who,
                                   const std::function<Status()>& before_commit,
                                   const std::function<void()>& undo) {
  ANSHIN_ASSIGN_OR_RETURN(std::unique_ptr<store::WriteTxn> txn, store_.BeginWrite());
  ANSHIN_ASSIGN_OR_RETURN(std::optional<store::Agent> agent, txn->agents().Find(name));
  if (!agent) return Status::NotFound("agent " + std::string(name));
  if (agent->status == store::AgentStatus::kRevoked) {
    return Status::FailedPrecondition("agent " + std::string(name) +
                                      " is revoked; enrol a new certificate under a new name");
  }
  if (agent->cert_sha256.empty()) {  // the facility board's own uploader never connects
    return Status::FailedPrecondition("agent " + std::string(name) +
                                      " has no client certificate to renew");
  }
  ANSHIN_RETURN_IF_ERROR(txn->agents().SetCertificate(agent->id, cert_sha256, not_after));
  ANSHIN_RETURN_IF_ERROR(
      AppendAudit(*txn, who, "agent.renew",
                  "agent=" + agent->name + " old_cert_sha256=" + agent->cert_sha256 +
                      " cert_sha256=" + cert_sha256 + " not_after=" + FormatRfc3339(not_after)));
  if (before_commit) ANSHIN_RETURN_IF_ERROR(before_commit());
  if (Status s = txn->Commit(); !s.ok()) {
    if (undo) undo();
    return s;
  }
  return *std::move(agent);
}

Result<store::Agent> Agents::AcceptGap(std::string_view name, const store::Actor& who) {
  return store::InWrite(store_, [&](store::WriteTxn& txn) -> Result<store::Agent> {
    ANSHIN_ASSIGN_OR_RETURN(std::optional<store::Agent> agent, txn.agents().Find(name));
    if (!agent) return Status::NotFound("agent " + std::string(name));
    if (!agent->gap) {
      return Status::FailedPrecondition("agent " + std::string(name) +
                                        " has no gap: every seq up to " +
                                        std::to_string(agent->acked_through) + " is stored");
    }
    const wire::SeqGap accepted = *agent->gap;
    ANSHIN_ASSIGN_OR_RETURN(auto through,
                            txn.attendance().ContiguousThrough(agent->id, accepted.to));
    ANSHIN_RETURN_IF_ERROR(txn.agents().SetAcked(agent->id, through.first, through.second));
    ANSHIN_RETURN_IF_ERROR(AppendAudit(
        txn, who, "agent.accept_gap",
        "agent=" + agent->name + " from=" + std::to_string(accepted.from) + " to=" +
            std::to_string(accepted.to) + " acked_through=" + std::to_string(through.first)));
    agent->acked_through = through.first;
    agent->gap = through.second;
    return *std::move(agent);
  });
}

Result<std::vector<store::SkewSample>> Agents::SkewHistory(std::string_view name, TimePoint since) {
  return store::InRead(store_, [&](store::ReadTxn& txn) -> Result<std::vector<store::SkewSample>> {
    ANSHIN_ASSIGN_OR_RETURN(std::optional<store::Agent> agent, txn.agents().Find(name));
    if (!agent) return Status::NotFound("agent " + std::string(name));
    return txn.agents().SkewSamples(agent->id, since);
  });
}

Result<store::Agent> Agents::Get(std::string_view name) {
  return store::InRead(store_, [&](store::ReadTxn& txn) -> Result<store::Agent> {
    ANSHIN_ASSIGN_OR_RETURN(std::optional<store::Agent> a, txn.agents().Find(name));
    if (!a) return Status::NotFound("agent " + std::string(name));
    return *std::move(a);
  });
}

Result<std::vector<store::Agent>> Agents::List() {
  return store::InRead(store_, [](store::ReadTxn& txn) { return txn.agents().List(); });
}

}  // namespace anshin::services
