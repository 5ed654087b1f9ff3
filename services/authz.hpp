// Authorization of the staff console: which role may do what, on which facility's data
// (DESIGN.md §7; docs/console.md has the table in words). One pure function, asked by the
// console on the server for every request; no other code decides access.
//
//   facility    its own facility's children only: search, view, record a forgotten tap or
//               an absence, set the weekdays a child attends, acknowledge its alerts
//   callcenter  every child: search, view, reveal an address (with a reason), card lost /
//               found and replacement, resend a notice, fix an address, enter a verification
//               code, record a forgotten tap, acknowledge alerts
//   operator    what the call centre does, and the operations page
//   admin       everything, and managing staff accounts
//   auditor     the audit log only
// Thread-safe (pure).
#pragma once

#include <optional>

#include "common/enum_names.hpp"
#include "common/types.hpp"
#include "store/records.hpp"

namespace anshin::services {

enum class Action {
  kSearchChildren,
  kViewChild,
  kRevealGuardianAddress,
  kMarkCardLostOrFound,
  kBindReplacement,
  kResendNotice,
  kFixAddress,
  kEnterVerificationCode,
  kRecordForgottenTap,
  kRecordAbsence,
  kSetAttendDays,
  kAcknowledgeAlert,
  kViewOperations,
  kViewAuditLog,
  kManageStaff,
};
inline constexpr EnumNames<Action, 15> kActionNames{
    "console action",
    {{{Action::kSearchChildren, "search-children"},
      {Action::kViewChild, "view-child"},
      {Action::kRevealGuardianAddress, "reveal-guardian-address"},
      {Action::kMarkCardLostOrFound, "mark-card-lost-found"},
      {Action::kBindReplacement, "bind-replacement"},
      {Action::kResendNotice, "resend-notice"},
      {Action::kFixAddress, "fix-address"},
      {Action::kEnterVerificationCode, "enter-verification-code"},
      {Action::kRecordForgottenTap, "record-forgotten-tap"},
      {Action::kRecordAbsence, "record-absence"},
      {Action::kSetAttendDays, "set-attend-days"},
      {Action::kAcknowledgeAlert, "acknowledge-alert"},
      {Action::kViewOperations, "view-operations"},
      {Action::kViewAuditLog, "view-audit-log"},
      {Action::kManageStaff, "manage-staff"}}}};
static_assert(kActionNames.IsDense());

// Who asks: the account's role and, for the facility role, its facility.
struct Principal {
  store::StaffRole role = store::StaffRole::kAuditor;
  std::optional<FacilityId> facility;
};

// Whether `who` may do `action` on data of facility `target` (nullopt: no one facility, e.g. a
// search over every facility, the operations page). A facility account is allowed only with
// target equal to its own facility.
bool Allowed(const Principal& who, Action action, std::optional<FacilityId> target);

}  // namespace anshin::services
