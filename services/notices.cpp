#include "services/notices.hpp"

#include <algorithm>

#include "services/audit_log.hpp"

namespace anshin::services {

Result<std::int64_t> Notices::Resend(std::int64_t outbox_id, ChildId child,
                                     const store::Actor& who) {
  return store::InWrite(store_, [&](store::WriteTxn& txn) -> Result<std::int64_t> {
    ANSHIN_ASSIGN_OR_RETURN(std::vector<store::OutboxRow> rows, txn.outbox().List(child));
    auto row = std::find_if(rows.begin(), rows.end(),
                            [&](const store::OutboxRow& r) { return r.id == outbox_id; });
    if (row == rows.end()) {
      return Status::NotFound("mail " + std::to_string(outbox_id) + " is not one of child " +
                              child.ToString() + "'s");
    }
    // Attendance notices only: a verification code or a past afternoon is not sent again.
    if (!store::NoticeKindOf(row->message.kind)) {
      return Status::FailedPrecondition("only arrival and departure notices can be sent again");
    }
    ANSHIN_ASSIGN_OR_RETURN(store::Guardian g, txn.guardians().Get(row->message.guardian));
    if (g.removed) return Status::FailedPrecondition("the guardian was removed");
    if (g.bouncing) {
      return Status::FailedPrecondition(
          "the guardian's address is refused by the mail server: fix the address first");
    }
    if (!g.verified) {
      return Status::FailedPrecondition(
          "the guardian's address is not verified yet: the notice would not be sent");
    }
    store::OutboxMessage again = row->message;
    again.created_at = who.at;
    ANSHIN_ASSIGN_OR_RETURN(std::int64_t id, txn.outbox().Insert(again));
    ANSHIN_RETURN_IF_ERROR(
        AppendAudit(txn, who, "mail.resend",
                    "outbox=" + std::to_string(outbox_id) + " new=" + std::to_string(id) +
                        " child=" + child.ToString() + " guardian=" + g.id.ToString()));
    return id;
  });
}

}  // namespace anshin::services
