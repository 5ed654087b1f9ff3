#include "services/children.hpp"

#include "common/validate.hpp"
#include "services/audit_log.hpp"

namespace anshin::services {

Result<ChildId> Children::Add(const store::Child& c, const store::Actor& who) {
  ANSHIN_RETURN_IF_ERROR(CheckName("name", c.name));
  return store::InWrite(store_, [&](store::WriteTxn& txn) -> Result<ChildId> {
    ANSHIN_RETURN_IF_ERROR(txn.facilities().Get(c.facility).status());
    store::Child row = c;
    row.status = store::ChildStatus::kEnrolled;
    row.withdrawn_at.reset();
    ANSHIN_ASSIGN_OR_RETURN(ChildId id, txn.children().Insert(row, who.at));
    ANSHIN_RETURN_IF_ERROR(AppendAudit(
        txn, who, "child.add", "child=" + id.ToString() + " facility=" + c.facility.ToString()));
    return id;
  });
}

Result<store::Child> Children::Get(ChildId id) {
  return store::InRead(store_, [&](store::ReadTxn& txn) { return txn.children().Get(id); });
}

}  // namespace anshin::services
