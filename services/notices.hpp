// Notices: the call centre's "please send it again" (DESIGN.md §8). A guardian who says an
// arrival or departure mail never came — after the address was fixed and verified again, or a
// relay refused it — gets the same notice once more as a new outbox row (a new Message-ID: it
// is a deliberate second mail, not a retry), dated by its original tap.
//
//   Resend(outbox_id, child)   the notice must be the child's (so an id typed on one child's
//                              page cannot reach another family), an attendance notice
//                              (arrival, departure, inferred departure, correction: never a
//                              verification or test mail, whose secrets are gone), and its
//                              guardian must be verified, not bouncing and not removed.
// Every resend is audited (mail.resend: old and new outbox ids, child, guardian).
// Thread-safe as the store is.
#pragma once

#include <cstdint>

#include "common/status.hpp"
#include "store/store.hpp"

namespace anshin::services {

class Notices {
 public:
  explicit Notices(store::Store& store) : store_(store) {}

  // The new outbox row's id.
  Result<std::int64_t> Resend(std::int64_t outbox_id, ChildId child, const store::Actor& who);

 private:
  store::Store& store_;
};

}  // namespace anshin::services
