// Inquiries: the call centre's and the operator's read side (DESIGN.md §7, §8): finding a
// child, reading a child's record, taps, mail and guardians, the alerts and the audit log.
//
// Privacy rules kept here, not by the callers:
//   - every view of a child's record (its page, guardians, taps, mail) is written to the audit
//     log with the actor and the reason given (which may be empty, except for a reveal);
//   - guardians' addresses come back masked (MaskEmail) unless revealed, and a reveal needs a
//     reason; it is audited with the guardians' ids;
//   - a search is audited with its result count only (the query may be a name).
// Audit details carry IDs, dates and the reason as typed; never names or addresses.
// Thread-safe; blocks on the store.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.hpp"
#include "common/time.hpp"
#include "services/explain.hpp"
#include "services/facilities.hpp"
#include "store/store.hpp"

namespace anshin::services {

// "hanako@example.jp" -> "ha***@e***.jp": the first two characters of the local part (one when
// it is that short), the first of the domain and its last label. A value without '@' is
// masked whole ("***").
std::string MaskEmail(std::string_view email);

// What the engine decided for a tap of this reason, in words: whether it was mailed, and why
// not ("double tap, no mail").
std::string_view ReasonInWords(Reason reason);

// What an alert of this kind is about, in Japanese (the staff alert mail's subject, the
// console's alert pages).
std::string_view AlertKindInWords(AlertKind kind);

// A guardian as shown: the address masked unless revealed.
struct ShownGuardian {
  store::Guardian guardian;  // guardian.email is the masked form unless `revealed`
  bool revealed = false;
};

// A child's record as the call centre sees it.
struct ChildRecord {
  store::Child child;
  store::Facility facility;
  std::vector<ShownGuardian> guardians;
  std::vector<store::Card> cards;  // by issue time
};

// One notice with its delivery history.
struct MailRecord {
  store::OutboxRow row;
  std::vector<store::SendLogEntry> attempts;
};

// A facility-local day as an interval of instants.
struct DayWindow {
  TimePoint from, to;
};

class Inquiries {
 public:
  Inquiries(store::Store& store, ZoneLoader zones) : store_(store), zones_(std::move(zones)) {}

  // The children `query` selects; audited as child.search with the count.
  Result<std::vector<store::Child>> FindChildren(const store::ChildQuery& query,
                                                 const store::Actor& who);
  // The facility of a code, for a query's facility filter (NotFound naming the code).
  Result<store::Facility> FacilityByCode(std::string_view code);
  Result<std::vector<store::Facility>> Facilities();

  // The child's page (guardians masked); audited as child.view.
  Result<ChildRecord> ShowChild(ChildId child, const store::Actor& who, std::string_view reason);
  // The child's guardians, masked, or in clear when `reveal` (then `reason` must be given);
  // audited as guardian.list or guardian.reveal.
  Result<std::vector<ShownGuardian>> Guardians(ChildId child, bool reveal, const store::Actor& who,
                                               std::string_view reason);
  // The child's taps on `date` in the child's facility's zone (every tap when nullopt);
  // audited as tap.list.
  Result<std::vector<store::TapRecord>> Taps(ChildId child, std::optional<LocalDate> date,
                                             const store::Actor& who, std::string_view reason);
  // The child's mail queued on `date` (all when nullopt), each with its attempts; audited as
  // mail.list.
  Result<std::vector<MailRecord>> Mails(ChildId child, std::optional<LocalDate> date,
                                        const store::Actor& who, std::string_view reason);

  // The child's day re-derived with the engine, each decision with its rule in words
  // (explain.hpp); audited as child.explain.
  Result<DayExplanation> Explain(ChildId child, const LocalDate& date, const store::Actor& who,
                                 std::string_view reason);

  // Alerts, open ones only when `open_only`, of one facility when given.
  Result<std::vector<store::AlertRecord>> Alerts(bool open_only,
                                                 std::optional<FacilityId> facility);
  // Acknowledges the alert with a note (required); audited as alert.ack. Returns it as stored.
  Result<store::AlertRecord> AcknowledgeAlert(std::int64_t id, std::string_view note,
                                              const store::Actor& who);

  // The audit log from `since` on (all when nullopt), by id.
  Result<std::vector<store::AuditEntry>> AuditLog(std::optional<TimePoint> since);

  // The day `date` of the facility's zone.
  Result<DayWindow> DayOf(const store::Facility& facility, const LocalDate& date);
  // The zone of a facility (for showing times in local time).
  Result<std::shared_ptr<const TimeZone>> ZoneOf(const store::Facility& facility);

 private:
  store::Store& store_;
  const ZoneLoader zones_;
};

}  // namespace anshin::services
