// Explain: a child's day re-derived from the stored taps with the real engine, each decision
// with the rule that fired in words — what `anshin-replay` does for a day script, done for the
// call centre's "why did (not) I get a mail?" (`anshin-admin explain`, the console).
//
// The taps of the child's facility-local day are judged again in the order the server received
// them (receive time, then agent and seq), from an empty day, with the card's status at each
// tap's time and the skew measured at its upload; the stored decision is shown beside the
// re-derived one, so a difference (the child's schedule or the facility's rules changed since)
// is visible. Pure over a read snapshot apart from the zone loader; nothing is written.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/engine.hpp"
#include "common/status.hpp"
#include "services/facilities.hpp"
#include "store/store.hpp"

namespace anshin::services {

struct ExplainedTap {
  store::TapRecord tap;  // as stored, with the decision taken then
  Decision decision;     // re-derived now
  bool judged = true;    // false: set aside unjudged (impossible time), as stored
  CardStatus card_status = CardStatus::kActive;  // the card's status at the tap's time
  std::string why;  // the rule that fired, in words, with the times it compared
  bool agrees() const { return !judged || decision.reason == tap.reason; }
};

struct FacilityDay {
  store::Facility facility;  // where the taps were made (the child's own or another hall)
  TimePoint departure_threshold;
  std::vector<ExplainedTap> taps;
  ChildDay day;                // the state after the last tap
  std::vector<Alert> closing;  // what the closing check raises on that state
};

struct DayExplanation {
  store::Child child;
  LocalDate date;
  std::vector<FacilityDay> facilities;  // the child's facility first, then by facility id
};

// Re-derives `child`'s day `date` (in the zone of the child's facility).
Result<DayExplanation> ExplainDay(store::ReadTxn& txn, const ZoneLoader& zones, ChildId child,
                                  const LocalDate& date);

}  // namespace anshin::services
