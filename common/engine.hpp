// The attendance engine: DESIGN.md §4 as a pure function.
//
// Judge() takes one tap, what is known about its card and child, and the child's state for the
// facility-local day the tap belongs to; it returns the decision (with a reason code), the new
// day state, and the notices and alerts to send. It reads no clock, touches no storage and is
// deterministic: judging the same taps in the same order gives the same decisions. Callers
// (the server's ingest) load the ChildDay for JudgedDay(), call Judge(), and persist the result
// in one transaction.
//
// Taps are judged by the time they were tapped, corrected for the agent's clock skew. A tap
// older than one already judged that day is judged "out of order": it may fill in a missing
// arrival (mailed as late), but it never reverses a decision that was already mailed.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/enum_names.hpp"
#include "common/time.hpp"
#include "common/types.hpp"

namespace anshin {

enum class Direction { kAuto, kEntry, kExit };
inline constexpr EnumNames<Direction, 3> kDirectionNames{
    "direction",
    {{{Direction::kAuto, "auto"}, {Direction::kEntry, "entry"}, {Direction::kExit, "exit"}}}};
static_assert(kDirectionNames.IsDense());
inline std::string_view DirectionName(Direction d) { return kDirectionNames.Name(d); }
inline Result<Direction> ParseDirection(std::string_view s) { return kDirectionNames.Parse(s); }

enum class CardStatus { kActive, kLost, kRetired };
inline constexpr EnumNames<CardStatus, 3> kCardStatusNames{"card status",
                                                           {{{CardStatus::kActive, "active"},
                                                             {CardStatus::kLost, "lost"},
                                                             {CardStatus::kRetired, "retired"}}}};
static_assert(kCardStatusNames.IsDense());
inline std::string_view CardStatusName(CardStatus s) { return kCardStatusNames.Name(s); }
inline Result<CardStatus> ParseCardStatus(std::string_view s) { return kCardStatusNames.Parse(s); }

// Why a tap was judged as it was; stored with the tap and shown in the console.
enum class Reason {
  kArrival,            // opened a visit
  kDeparture,          // closed an open visit
  kInferredDeparture,  // no open visit, at/after the departure threshold: arrival tap forgotten
  kCorrection,         // a tap after an inferred departure: that one was the arrival, this leaves
  kBackfilledArrival,  // an out-of-order tap that supplies a visit's missing arrival (mailed late)
  kDuplicate,          // within double_tap_window of an accepted tap: no mail
  kOutOfOrder,         // older than taps already judged and fits no visit: recorded, no mail
  kUnknownCard,        // no such card: no mail
  kLostCard,           // card reported lost: no mail, staff alert
  kRetiredCard,        // card retired (replaced, child left): no mail
  // Never set by Judge: ingest sets a tap aside unjudged when its time cannot be true
  // (notify-server/ingest/tap_time.hpp). Stored as sent, no day change, no mail.
  kImpossibleTime,
};
// snake_case codes as in DESIGN.md §4 rule 10; stored with every tap.
inline constexpr EnumNames<Reason, 11> kReasonNames{
    "reason",
    {{{Reason::kArrival, "arrival"},
      {Reason::kDeparture, "departure"},
      {Reason::kInferredDeparture, "inferred_departure"},
      {Reason::kCorrection, "correction"},
      {Reason::kBackfilledArrival, "backfilled_arrival"},
      {Reason::kDuplicate, "duplicate"},
      {Reason::kOutOfOrder, "out_of_order"},
      {Reason::kUnknownCard, "unknown_card"},
      {Reason::kLostCard, "lost_card"},
      {Reason::kRetiredCard, "retired_card"},
      {Reason::kImpossibleTime, "impossible_time"}}}};
static_assert(kReasonNames.IsDense());
inline std::string_view ReasonName(Reason r) { return kReasonNames.Name(r); }
inline Result<Reason> ParseReason(std::string_view s) { return kReasonNames.Parse(s); }

// Engine parameters of one facility (DESIGN.md §4). Defaults are the ward's.
struct FacilityRules {
  Seconds double_tap_window{120};
  LocalTime departure_from = LocalTime::HM(16, 30);
  Minutes departure_margin{30};
  LocalTime closing_time = LocalTime::HM(19, 0);
  Minutes closing_grace{15};
  Seconds late_after{300};
  std::shared_ptr<const TimeZone> zone =
      std::make_shared<TimeZone>(TimeZone::Fixed("Asia/Tokyo", 9 * 3600));
};

// What the engine needs to know about a child: expected departure per weekday (0 = Sunday).
struct ChildSchedule {
  std::array<std::optional<LocalTime>, 7> expected_departure{};
};

struct CardInfo {
  ChildId child;
  CardStatus status = CardStatus::kActive;
};

// One tap as received by the server.
struct TapEvent {
  CardToken card;
  FacilityId facility;
  std::string reader;
  Direction direction = Direction::kAuto;
  TimePoint tapped_at;    // by the agent's clock
  Millis agent_skew{0};   // agent clock minus server clock, measured at upload
  TimePoint received_at;  // by the server's clock
};

// One stay of a child at a facility within a day.
struct Visit {
  std::optional<TimePoint> arrival;    // empty: the arrival tap was missing
  std::optional<TimePoint> departure;  // empty: still open, unless departure_unknown
  bool inferred = false;               // closed by an inferred departure (no arrival tap)
  bool corrected = false;              // an inferred departure that was corrected (rule 6)
  bool departure_unknown = false;      // closed without a departure tap (entry reader re-entry)
  bool open() const { return !departure && !departure_unknown; }
  friend bool operator==(const Visit&, const Visit&) = default;
};

// A child's attendance at one facility on one facility-local day.
struct ChildDay {
  LocalDate date;
  std::vector<Visit> visits;             // in time order
  std::vector<TimePoint> accepted_taps;  // taps judged not duplicate, ascending
  bool closing_alerted = false;
  friend bool operator==(const ChildDay&, const ChildDay&) = default;
};

enum class NoticeKind { kArrival, kDeparture, kInferredDeparture, kCorrection };
inline constexpr EnumNames<NoticeKind, 4> kNoticeKindNames{
    "notice kind",
    {{{NoticeKind::kArrival, "arrival"},
      {NoticeKind::kDeparture, "departure"},
      {NoticeKind::kInferredDeparture, "inferred_departure"},
      {NoticeKind::kCorrection, "correction"}}}};
static_assert(kNoticeKindNames.IsDense());
inline std::string_view NoticeKindName(NoticeKind k) { return kNoticeKindNames.Name(k); }
inline Result<NoticeKind> ParseNoticeKind(std::string_view s) { return kNoticeKindNames.Parse(s); }
// Arrival notices go to guardians who chose arrival mail; the rest to those who chose departure.
inline bool IsArrivalNotice(NoticeKind k) { return k == NoticeKind::kArrival; }

// A mail-worthy event about one child. Rendering into text is mail's job.
struct Notice {
  NoticeKind kind = NoticeKind::kArrival;
  ChildId child;
  FacilityId facility;
  TimePoint at;  // the tap time (corrected for skew)
  // kCorrection: the earlier tap, now read as the arrival. kInferredDeparture: the arrival of
  // an earlier visit that day (its arrival was mailed), when there was one.
  std::optional<TimePoint> arrival_at;
  bool late = false;            // received more than late_after after the tap
  bool staff_recorded = false;  // a tap staff recorded on the board: the mail says so
  friend bool operator==(const Notice&, const Notice&) = default;
};

// The engine raises the first two; the server's checks (services/alert_checks.hpp) and the
// console (unusual access) raise the others.
enum class AlertKind {
  kLostCardSeen,
  kNoDeparture,
  kNotArrived,
  kAgentSilent,
  kReaderError,
  kMailFailing,
  kAddressBouncing,
  kUnusualAccess,
  kClockSkew,
};
inline constexpr EnumNames<AlertKind, 9> kAlertKindNames{
    "alert kind",
    {{{AlertKind::kLostCardSeen, "lost_card_seen"},
      {AlertKind::kNoDeparture, "no_departure"},
      {AlertKind::kNotArrived, "not_arrived"},
      {AlertKind::kAgentSilent, "agent_silent"},
      {AlertKind::kReaderError, "reader_error"},
      {AlertKind::kMailFailing, "mail_failing"},
      {AlertKind::kAddressBouncing, "address_bouncing"},
      {AlertKind::kUnusualAccess, "unusual_access"},
      {AlertKind::kClockSkew, "clock_skew"}}}};
static_assert(kAlertKindNames.IsDense());
inline std::string_view AlertKindName(AlertKind k) { return kAlertKindNames.Name(k); }
inline Result<AlertKind> ParseAlertKind(std::string_view s) { return kAlertKindNames.Parse(s); }

struct Alert {
  AlertKind kind;
  FacilityId facility;
  std::optional<ChildId> child;
  TimePoint at;  // when the situation was seen
  friend bool operator==(const Alert&, const Alert&) = default;
};

struct Decision {
  Reason reason = Reason::kUnknownCard;
  std::optional<ChildId> child;
  TimePoint tap_time;  // corrected
  bool late = false;
  std::optional<Notice> notice;
  std::vector<Alert> alerts;
};

struct Judgement {
  Decision decision;
  ChildDay day;  // the new state of the day (unchanged for cards without a child)
};

// The tap time judged by the engine: tapped_at corrected by the agent's skew.
TimePoint CorrectedTapTime(const TapEvent& tap);
// The facility-local day whose ChildDay the caller must load before Judge().
LocalDate JudgedDay(const FacilityRules& rules, const TapEvent& tap);
// The time from which a tap with no open visit is read as a departure (rule 4), for `date`.
TimePoint DepartureThreshold(const FacilityRules& rules, const ChildSchedule& schedule,
                             const LocalDate& date);

// Judges one tap. `day` is the child's state for JudgedDay(rules, tap) (a fresh ChildDay with
// that date when nothing is stored); it is ignored when the card has no active child.
Judgement Judge(const FacilityRules& rules, const TapEvent& tap,
                const std::optional<CardInfo>& card, const ChildSchedule& schedule, ChildDay day);

// Rule 8: at closing_time + closing_grace, every still-open visit raises one "no departure"
// alert. Returns the alerts to raise now (at most one per day) and marks the day alerted.
std::vector<Alert> CheckClosing(const FacilityRules& rules, FacilityId facility, ChildId child,
                                ChildDay& day, TimePoint now);
// The instant at which the closing check for `date` is due.
TimePoint ClosingCheckDue(const FacilityRules& rules, const LocalDate& date);

}  // namespace anshin
