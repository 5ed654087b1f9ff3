// Agents: the lifecycle of facility PCs (reader agents) as the store records them. The
// certificates themselves are provisioning's job (provisioning/pki.hpp).
//
// Rules:
//   - a name (the certificate's CN) is 1 to 64 characters of ASCII letters, digits, '-', '_'
//     and '.', unique, and belongs to an existing facility;
//   - status: active <-> disabled; revoked is final (a revoked certificate is never trusted
//     again: enrol a new one under a new name);
//   - a renewal replaces the agent's one certificate: the server compares the TLS peer's
//     fingerprint with the stored one on every request, so the old certificate is refused from
//     the commit on; a revoked agent, or one without a certificate, is not renewed;
//   - accepting a gap declares the agent's missing seqs lost for good (a server restored from
//     a backup lost taps the agent had already deleted): acked_through moves past the gap and on
//     over the taps stored after it, so the agent's queue drains again.
// Every change is audited in the same transaction. Thread-safe; blocks on the store.
#pragma once

#include <functional>
#include <string_view>
#include <vector>

#include "common/status.hpp"
#include "store/store.hpp"

namespace anshin::services {

Status CheckAgentName(std::string_view name);

class Agents {
 public:
  explicit Agents(store::Store& store) : store_(store) {}

  // Records a newly enrolled agent. `before_commit` runs inside the transaction once the row
  // and its audit entry are written (provisioning writes the certificate bundle there): when
  // it fails nothing is committed, so a bundle never exists for an agent the store does not
  // know. If the commit itself fails after it ran, `undo` is called (remove the bundle).
  Result<AgentId> Enroll(const store::Agent& a, const store::Actor& who,
                         const std::function<Status()>& before_commit = {},
                         const std::function<void()>& undo = {});
  Status SetStatus(std::string_view name, store::AgentStatus status, const store::Actor& who);
  // Records the agent's new certificate (fingerprint and expiry), audited "agent.renew";
  // `before_commit` and `undo` as for Enroll. Returns the agent as it was before.
  Result<store::Agent> Renew(std::string_view name, const std::string& cert_sha256,
                             TimePoint not_after, const store::Actor& who,
                             const std::function<Status()>& before_commit = {},
                             const std::function<void()>& undo = {});
  // Accepts the agent's recorded gap, audited "agent.accept_gap" with the range; returns the
  // agent as it is after (acked_through, and the next gap if there is one). FailedPrecondition
  // when the agent has no gap.
  Result<store::Agent> AcceptGap(std::string_view name, const store::Actor& who);
  // The agent's clock-skew samples taken at or after `since`, oldest first.
  Result<std::vector<store::SkewSample>> SkewHistory(std::string_view name, TimePoint since);
  // NotFound("agent <name>") for an unknown name.
  Result<store::Agent> Get(std::string_view name);
  Result<std::vector<store::Agent>> List();

 private:
  store::Store& store_;
};

}  // namespace anshin::services
