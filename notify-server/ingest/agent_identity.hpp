// Who an agent is, as every agent request must prove it (DESIGN.md §5): the certificate's CN
// names an enrolled agent, its SHA-256 is the enrolled certificate's, and the agent is active.
#pragma once

#include <optional>

#include "common/status.hpp"
#include "notify-server/services.hpp"
#include "store/records.hpp"

namespace anshin::ingest {

// Unauthenticated for an unknown agent or another certificate; PermissionDenied for a
// disabled or revoked agent.
inline Status CheckAgentIdentity(const std::optional<store::Agent>& agent,
                                 const server::Peer& peer) {
  if (!agent) return Status::Unauthenticated("agent " + peer.agent_name + " is not enrolled");
  if (agent->cert_sha256 != peer.cert_sha256) {
    return Status::Unauthenticated("agent " + peer.agent_name +
                                   ": certificate is not the enrolled one");
  }
  if (agent->status != store::AgentStatus::kActive) {
    return Status::PermissionDenied("agent " + peer.agent_name + " is " +
                                    std::string(store::kAgentStatusNames.Name(agent->status)));
  }
  return Status::Ok();
}

}  // namespace anshin::ingest
