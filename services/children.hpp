// Children: registering children and reading their records. A child's name is a display name
// (CheckName: it goes into guardians' mail); the facility must exist. Every change is
// audited in its own transaction. Thread-safe; blocks on the store.
#pragma once

#include "common/status.hpp"
#include "store/store.hpp"

namespace anshin::services {

class Children {
 public:
  explicit Children(store::Store& store) : store_(store) {}

  Result<ChildId> Add(const store::Child& c, const store::Actor& who);
  Result<store::Child> Get(ChildId id);

 private:
  store::Store& store_;
};

}  // namespace anshin::services
