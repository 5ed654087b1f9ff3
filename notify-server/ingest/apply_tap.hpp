// ApplyTap: one tap through the attendance engine and into the store, inside the caller's
// write transaction: load what the engine needs (card and the status it had at the tap's time,
// child schedule, the child's day), judge (common/engine.hpp), then write the tap with its
// decision, the new day state, the alerts and one outbox row per guardian who should hear of it.
// Ingest calls it for every new tap of an upload; the console calls it for a tap recorded by staff.
//
// It checks nothing about who sent the tap (the caller authenticated that) and commits nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/engine.hpp"
#include "common/status.hpp"
#include "common/wire.hpp"
#include "store/store.hpp"

namespace anshin::ingest {

// Where and how a tap was taken.
struct TapContext {
  AgentId agent;
  FacilityId facility;         // the agent's facility: where the tap happened
  const FacilityRules* rules;  // the facility's rules with its zone loaded
  Millis skew{0};              // agent clock minus server clock, measured at this upload
  TimePoint received_at;       // server clock
  std::string source;          // who took it, for alert details: "agent=hikari1-pc"
  // A tap staff recorded on the facility board: the account ("staff:<name>") and the reason;
  // its notices say staff recorded it. Empty for a card's tap.
  std::string recorded_by;
  std::string note;
};

struct AppliedTap {
  Reason reason = Reason::kUnknownCard;
  std::optional<ChildId> child;
  std::size_t outbox_rows = 0;
  std::size_t alerts = 0;
};

Result<AppliedTap> ApplyTap(store::WriteTxn& txn, const TapContext& ctx, const wire::Tap& tap);

// The stored tap's fields that come from the upload as sent (the decision's are left unset).
store::TapRecord TapRecordAsSent(const TapContext& ctx, const wire::Tap& tap);

}  // namespace anshin::ingest
