// The console's authorization (services/authz.hpp) as a table: role × action × expected, for a
// target in the account's own facility, in another one, and for no one facility.
#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "services/authz.hpp"

namespace anshin::services {
namespace {

using store::StaffRole;

const FacilityId kOwn{1};
const FacilityId kOther{2};

// What each role may do on the data of a facility it is not bound to (every facility for the
// roles without one).
const std::map<StaffRole, std::set<Action>> kExpected = {
    {StaffRole::kFacility,
     {Action::kSearchChildren, Action::kViewChild, Action::kRecordForgottenTap,
      Action::kRecordAbsence, Action::kSetAttendDays, Action::kAcknowledgeAlert}},
    {StaffRole::kCallCenter,
     {Action::kSearchChildren, Action::kViewChild, Action::kRevealGuardianAddress,
      Action::kMarkCardLostOrFound, Action::kBindReplacement, Action::kResendNotice,
      Action::kFixAddress, Action::kEnterVerificationCode, Action::kRecordForgottenTap,
      Action::kRecordAbsence, Action::kSetAttendDays, Action::kAcknowledgeAlert}},
    {StaffRole::kOperator,
     {Action::kSearchChildren, Action::kViewChild, Action::kRevealGuardianAddress,
      Action::kMarkCardLostOrFound, Action::kBindReplacement, Action::kResendNotice,
      Action::kFixAddress, Action::kEnterVerificationCode, Action::kRecordForgottenTap,
      Action::kRecordAbsence, Action::kSetAttendDays, Action::kAcknowledgeAlert,
      Action::kViewOperations}},
    {StaffRole::kAdmin,
     {Action::kSearchChildren, Action::kViewChild, Action::kRevealGuardianAddress,
      Action::kMarkCardLostOrFound, Action::kBindReplacement, Action::kResendNotice,
      Action::kFixAddress, Action::kEnterVerificationCode, Action::kRecordForgottenTap,
      Action::kRecordAbsence, Action::kSetAttendDays, Action::kAcknowledgeAlert,
      Action::kViewOperations, Action::kViewAuditLog, Action::kManageStaff}},
    {StaffRole::kAuditor, {Action::kViewAuditLog}},
};

TEST_CASE("authorization table: role x action x target", "[authz]") {
  for (const auto& [role, name] : store::kStaffRoleNames.entries()) {
    const bool bound = role == StaffRole::kFacility;
    Principal who{role, bound ? std::optional<FacilityId>(kOwn) : std::nullopt};
    for (const auto& [action, action_name] : kActionNames.entries()) {
      const bool may = kExpected.at(role).count(action) > 0;
      INFO(name << " " << action_name);
      CHECK(Allowed(who, action, kOwn) == may);
      // A facility account never reaches another facility's data, nor data of no facility.
      CHECK(Allowed(who, action, kOther) == (may && !bound));
      CHECK(Allowed(who, action, std::nullopt) == (may && !bound));
    }
  }
}

TEST_CASE("authorization: the headline rules", "[authz]") {
  const Principal facility{StaffRole::kFacility, kOwn};
  const Principal callcenter{StaffRole::kCallCenter, std::nullopt};
  const Principal auditor{StaffRole::kAuditor, std::nullopt};
  CHECK(Allowed(facility, Action::kViewChild, kOwn));
  CHECK_FALSE(Allowed(facility, Action::kViewChild, kOther));
  CHECK_FALSE(Allowed(facility, Action::kMarkCardLostOrFound, kOwn));
  CHECK(Allowed(callcenter, Action::kMarkCardLostOrFound, kOther));
  CHECK_FALSE(Allowed(callcenter, Action::kViewAuditLog, std::nullopt));
  CHECK(Allowed(auditor, Action::kViewAuditLog, std::nullopt));
  CHECK_FALSE(Allowed(auditor, Action::kViewChild, kOwn));
  // A facility account that lost its binding (never stored so) is refused everything.
  const Principal unbound{StaffRole::kFacility, std::nullopt};
  CHECK_FALSE(Allowed(unbound, Action::kViewChild, std::nullopt));
}

}  // namespace
}  // namespace anshin::services
