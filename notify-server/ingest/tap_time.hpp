// Which tap times ingest believes (issue 12, defect 2). An agent's clock can be wrong — a
// hand-set date, a dead CMOS battery, a time zone set wrong — and a tap's time decides what a
// guardian is told ("退館 12月2日 20:06"). The engine corrects every tap by the agent's clock skew
// measured at the upload (sent_at − receipt); these bounds decide when that correction, or the
// tap time itself, cannot be true:
//
//   - the skew: a clock more than `max_skew` off is not drifting but broken, and nothing says
//     it was the same while the taps were taken: every tap of such an upload is set aside;
//   - a corrected tap time after the upload arrived (beyond `max_ahead`: network delay makes
//     the measured skew read low by the request's transit, and clocks step): not yet happened;
//   - a corrected tap time more than `max_age` before the upload arrived: the agent queues taps
//     until they are acknowledged, and a PC offline for weeks still delivers them, but a tap
//     older than that is a wrong clock, not a late upload (1970, year 1).
//
// A tap set aside is stored as sent (reason `impossible_time`), acknowledged like any other, never
// judged and never mailed; the ACK names it with the reason (wire::RejectedTap). Pure functions.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "common/time.hpp"

namespace anshin::ingest {

struct TapTimeBounds {
  Millis max_skew = std::chrono::hours(24);
  Millis max_ahead = std::chrono::minutes(5);
  Millis max_age = std::chrono::days(31);
};

// Empty when the measured skew (agent clock minus server clock) can be corrected; otherwise the
// reason, "sent_at: …", for every tap of the upload.
std::optional<std::string> SkewProblem(Millis skew, const TapTimeBounds& bounds);

// Empty when the tap at `at` (agent clock), corrected by `skew`, can have happened before
// `received_at`; otherwise the reason, naming `field` ("taps[2].at: …").
std::optional<std::string> TapTimeProblem(const std::string& field, TimePoint at, Millis skew,
                                          TimePoint received_at, const TapTimeBounds& bounds);

// "3 min 20 s", "22 h 54 min", "240 days": a duration for a person.
std::string HumanDuration(Millis d);

}  // namespace anshin::ingest
