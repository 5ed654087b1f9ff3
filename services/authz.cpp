#include "services/authz.hpp"

namespace anshin::services {
namespace {

bool FacilityMay(Action a) {
  switch (a) {
    case Action::kSearchChildren:
    case Action::kViewChild:
    case Action::kRecordForgottenTap:
    case Action::kRecordAbsence:
    case Action::kSetAttendDays:
    case Action::kAcknowledgeAlert:
      return true;
    default:
      return false;
  }
}

bool CallCenterMay(Action a) {
  switch (a) {
    case Action::kViewOperations:
    case Action::kViewAuditLog:
    case Action::kManageStaff:
      return false;
    default:
      return true;
  }
}

}  // namespace

bool Allowed(const Principal& who, Action action, std::optional<FacilityId> target) {
  switch (who.role) {
    case store::StaffRole::kFacility:
      return FacilityMay(action) && who.facility.has_value() && target == who.facility;
    case store::StaffRole::kCallCenter:
      return CallCenterMay(action);
    case store::StaffRole::kOperator:
      return CallCenterMay(action) || action == Action::kViewOperations;
    case store::StaffRole::kAdmin:
      return true;
    case store::StaffRole::kAuditor:
      return action == Action::kViewAuditLog;
  }
  return false;
}

}  // namespace anshin::services
