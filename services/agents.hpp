// Agents: the lifecycle of facility PCs (reader agents) as the store records them. The
// certificates themselves are provisioning's job (provisioning/pki.hpp).
//
// Rules:
//   - a name (the certificate's CN) is 1 to 64 characters of ASCII letters, digits, '-', '_'
//     and '.', unique, and belongs to an existing facility;
//   - status: active <-> disabled; revoked is final (a revoked certificate is never trusted
//     again: enrol a new one under a new name).
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
  // NotFound("agent <name>") for an unknown name.
  Result<store::Agent> Get(std::string_view name);
  Result<std::vector<store::Agent>> List();

 private:
  store::Store& store_;
};

}  // namespace anshin::services
