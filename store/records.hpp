// The records the store keeps, one struct per row shape, and the names of their enums.
//
// These are plain values: the store reads and writes them and enforces only what the schema
// enforces (types, uniqueness, references). What a valid name, address or lifecycle step is
// lives in services/ (docs/architecture.md). docs/schema.md documents every table and column.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/engine.hpp"
#include "common/enum_names.hpp"
#include "common/time.hpp"
#include "common/types.hpp"
#include "common/wire.hpp"

namespace anshin::store {

// Who made a change (an operator's OS user, a staff account, "scheduler") and when.
struct Actor {
  std::string user;
  TimePoint at;
};

// ---- registry ----------------------------------------------------------------------------

// A facility and its engine parameters. `rules.zone` is not stored: readers leave the default
// placeholder and callers load `tz_name` through sys::TimeZones.
struct Facility {
  FacilityId id;
  std::string code;  // short unique code used by staff and the CLI ("hikari1")
  std::string name;  // display name used in mails
  std::string tz_name = "Asia/Tokyo";
  FacilityRules rules;
  LocalTime opens = LocalTime::HM(13, 0);  // opening hours on school days (silence monitoring)
  LocalTime closes = LocalTime::HM(19, 0);
  // Expected attendance: a child expected today with no arrival by this time raises
  // not_arrived (none: the facility does not use it); the calendar may change it per day.
  std::optional<LocalTime> expected_arrival_by;
  bool notify_not_arrived = false;  // also mail guardians (off unless the ward enables it)
};

// One day of a facility's small calendar: closed, or other expected-arrival hours (holidays).
struct CalendarDay {
  FacilityId facility;
  LocalDate date;
  bool closed = false;
  std::optional<LocalTime> expected_arrival_by;  // none: the facility's usual time
};

// A child's absence for a date or a range, recorded by staff or the call centre.
struct Absence {
  std::int64_t id = 0;
  ChildId child;
  LocalDate from, to;  // inclusive
  std::string reason;
  std::string recorded_by;
  TimePoint recorded_at;
};

enum class ChildStatus { kEnrolled, kWithdrawn };
inline constexpr EnumNames<ChildStatus, 2> kChildStatusNames{
    "child status",
    {{{ChildStatus::kEnrolled, "enrolled"}, {ChildStatus::kWithdrawn, "withdrawn"}}}};
static_assert(kChildStatusNames.IsDense());

// A set of weekdays, bit d for day d (0 = Sunday .. 6 = Saturday, as in ChildSchedule).
struct Weekdays {
  std::uint8_t bits = 0;
  bool Has(int day) const { return ((bits >> day) & 1u) != 0; }
  void Add(int day) { bits = static_cast<std::uint8_t>(bits | (1u << day)); }
  bool empty() const { return bits == 0; }
  friend bool operator==(Weekdays, Weekdays) = default;
};

struct Child {
  ChildId id;
  std::string name;  // display name used in mails ("練馬 さくら")
  FacilityId facility;
  ChildSchedule schedule;
  ChildStatus status = ChildStatus::kEnrolled;
  std::optional<TimePoint> withdrawn_at;
  // The ward's child number (児童番号), unique in the deployment; none on rows from before it
  // was recorded.
  std::optional<std::string> number;
  std::string kana;          // reading of the name (ふりがな); empty when not recorded
  std::optional<int> grade;  // school grade, 1..6
  Weekdays attend_days;      // days the child is registered to attend; empty: not recorded
};

// Which children ChildView::Find returns. `text`, when not empty, matches a child whose name
// or kana contains it, whose child number starts with it, whose facility's code is it, or one
// of whose cards' tokens starts with it (case-insensitive for ASCII); withdrawn children only
// with `withdrawn_too`.
struct ChildQuery {
  std::optional<FacilityId> facility;
  std::string text;
  bool withdrawn_too = false;
  int limit = 500;
};

enum class Charset { kUtf8, kIso2022Jp };
inline constexpr EnumNames<Charset, 2> kCharsetNames{
    "charset", {{{Charset::kUtf8, "utf-8"}, {Charset::kIso2022Jp, "iso-2022-jp"}}}};
static_assert(kCharsetNames.IsDense());

struct Guardian {
  GuardianId id;
  ChildId child;
  std::string email;
  bool verified = false;
  bool wants_arrival = true;
  bool wants_departure = true;
  Charset charset = Charset::kUtf8;
  bool bouncing = false;
  bool removed = false;  // removed by staff: address erased, no mail (kept for the send history)
};

// A guardian's pending address verification, as stored: secrets only as keyed hashes.
struct VerificationState {
  bool verified = false;
  std::optional<TimePoint> verified_at;
  std::optional<std::string> code_hash;
  std::optional<TimePoint> code_expires_at;
  int code_attempts = 0;
  std::optional<std::string> link_hash;
  std::optional<TimePoint> sends_window_start;  // the per-day limit's current window
  int sends_in_window = 0;
};

struct Card {
  CardToken token;
  ChildId child;
  CardStatus status = CardStatus::kActive;
  TimePoint issued_at;
  std::optional<TimePoint> retired_at;
  std::optional<TimePoint> shipped_at;  // its letter went on a shipping list (card shipping)
};

// One entry of a card's status history: the status it had from `at` on.
struct CardStatusChange {
  CardStatus status = CardStatus::kActive;
  TimePoint at;
};

// ---- agents ------------------------------------------------------------------------------

enum class AgentStatus { kActive, kDisabled, kRevoked };
inline constexpr EnumNames<AgentStatus, 3> kAgentStatusNames{
    "agent status",
    {{{AgentStatus::kActive, "active"},
      {AgentStatus::kDisabled, "disabled"},
      {AgentStatus::kRevoked, "revoked"}}}};
static_assert(kAgentStatusNames.IsDense());

// Clock skew above this is flagged on the agent's health.
inline constexpr Millis kSkewFlagThreshold{2 * 60 * 1000};

struct Agent {
  AgentId id;
  std::string name;  // the certificate's CN
  FacilityId facility;
  std::string cert_sha256;  // lowercase hex SHA-256 of the DER certificate
  AgentStatus status = AgentStatus::kActive;
  TimePoint enrolled_at;
  std::optional<TimePoint> last_contact;
  std::string last_health_json;  // the agent's last self-report (wire::Serialize(Health))
  std::int64_t skew_ms = 0;      // agent clock minus server clock at the last upload
  std::uint64_t acked_through = 0;
  std::optional<wire::SeqGap> gap;  // the first missing range after acked_through, if any
  // The client certificate's expiry (nullopt: not known).
  std::optional<TimePoint> cert_not_after;
  bool skew_flagged() const {
    return skew_ms > kSkewFlagThreshold.count() || skew_ms < -kSkewFlagThreshold.count();
  }
};

// One measurement of an agent's clock skew (agent_skew_samples).
struct SkewSample {
  TimePoint at;              // server time of the upload
  std::int64_t skew_ms = 0;  // agent clock minus server clock
  friend bool operator==(const SkewSample&, const SkewSample&) = default;
};

// What an upload tells about its agent, written with the upload's taps.
struct AgentContact {
  TimePoint at;
  std::int64_t skew_ms = 0;
  std::optional<std::string> health_json;  // nullopt keeps the previous report
  std::uint64_t acked_through = 0;
  std::optional<wire::SeqGap> gap;
};

// ---- attendance --------------------------------------------------------------------------

// One tap as stored, with its decision.
struct TapRecord {
  AgentId agent;
  std::uint64_t seq = 0;
  CardToken card;
  FacilityId facility;  // the agent's facility (where the tap happened)
  std::string reader;
  Direction direction = Direction::kAuto;
  TimePoint tapped_at;     // agent clock
  TimePoint corrected_at;  // judged time (skew-corrected)
  TimePoint received_at;   // server clock
  Reason reason = Reason::kUnknownCard;
  std::optional<ChildId> child;
  bool late = false;
  // A forgotten tap staff recorded on the facility board: the account ("staff:<name>") and
  // the reason they gave; empty for a card's tap.
  std::string recorded_by;
  std::string note;
};

// A child's day that still has an open visit and has not raised its closing alert yet.
struct OpenDay {
  ChildId child;
  FacilityId facility;
  ChildDay day;
};

// A stored day of a child at a facility (AttendanceView::DaysOfFacility).
struct StoredChildDay {
  ChildId child;
  ChildDay day;
};

// ---- outbox and send history -------------------------------------------------------------

enum class OutboxKind {
  kArrival,
  kDeparture,
  kInferredDeparture,
  kCorrection,
  kVerification,
  kTest,
  kNotArrived,  // the child expected today has not arrived (facilities.notify_not_arrived)
};
inline constexpr EnumNames<OutboxKind, 7> kOutboxKindNames{
    "outbox kind",
    {{{OutboxKind::kArrival, "arrival"},
      {OutboxKind::kDeparture, "departure"},
      {OutboxKind::kInferredDeparture, "inferred_departure"},
      {OutboxKind::kCorrection, "correction"},
      {OutboxKind::kVerification, "verification"},
      {OutboxKind::kTest, "test"},
      {OutboxKind::kNotArrived, "not_arrived"}}}};
static_assert(kOutboxKindNames.IsDense());
OutboxKind OutboxKindOf(NoticeKind k);
// The notice an attendance row renders; nullopt for verification, test and not-arrived mail.
std::optional<NoticeKind> NoticeKindOf(OutboxKind k);

enum class OutboxState { kQueued, kSending, kSent, kRetrying, kFailed };
inline constexpr EnumNames<OutboxState, 5> kOutboxStateNames{"outbox state",
                                                             {{{OutboxState::kQueued, "queued"},
                                                               {OutboxState::kSending, "sending"},
                                                               {OutboxState::kSent, "sent"},
                                                               {OutboxState::kRetrying, "retrying"},
                                                               {OutboxState::kFailed, "failed"}}}};
static_assert(kOutboxStateNames.IsDense());

// What a mail is about: written once when it is queued.
struct OutboxMessage {
  OutboxKind kind = OutboxKind::kArrival;
  GuardianId guardian;
  std::optional<ChildId> child;
  std::optional<FacilityId> facility;
  std::optional<TimePoint> tap_at;
  std::optional<TimePoint> arrival_at;
  bool late = false;
  std::string verification_code;  // kVerification only: the mail needs them in clear
  std::string link_token;         // kVerification only
  TimePoint created_at;
  bool staff_recorded = false;  // the notice is of a tap staff recorded (the mail says so)
};

// An outbox row with its delivery state.
struct OutboxRow {
  std::int64_t id = 0;
  OutboxMessage message;
  OutboxState state = OutboxState::kQueued;
  int attempts = 0;
  TimePoint next_attempt_at;
  std::string last_error;
  std::string relay_reply;
  std::string message_id;
  std::optional<TimePoint> sent_at;
};

// A row claimed for sending, joined with what rendering needs.
struct OutboxItem {
  std::int64_t id = 0;
  OutboxMessage message;
  std::string email;
  Charset charset = Charset::kUtf8;
  std::string child_name;     // empty for kinds without a child
  std::string facility_name;  // empty without a facility
  std::string facility_tz;    // zone name, e.g. "Asia/Tokyo"
  int attempts = 0;           // attempts before this one
};

struct SendResult {
  enum class Outcome { kSent, kRetry, kFailed };
  std::int64_t outbox_id = 0;
  GuardianId guardian;
  Outcome outcome = Outcome::kSent;
  TimePoint at;                              // when the attempt ended
  int smtp_code = 0;                         // the relay's reply code; 0 when none (connect error)
  std::string reply;                         // the relay's reply or the transport's error text
  std::string message_id;                    // the Message-ID header sent
  std::optional<TimePoint> next_attempt_at;  // kRetry: when to try again
};

struct OutboxStats {
  std::int64_t depth = 0;  // queued + sending + retrying
  Millis oldest_age{0};    // age of the oldest row not yet sent or failed
  std::int64_t queued = 0, sending = 0, sent = 0, retrying = 0, failed = 0;
};

// One attempt of the send history.
struct SendLogEntry {
  std::int64_t outbox_id = 0;
  TimePoint at;
  std::string result;  // "sent" | "retry" | "failed"
  int smtp_code = 0;
  std::string reply;
};

// One attempt of the send history as the ward's monthly send log shows it: no address.
struct SendLogReportRow {
  TimePoint at;
  std::optional<FacilityId> facility;
  std::optional<std::string> child_number;
  OutboxKind kind = OutboxKind::kArrival;
  std::string result;  // "sent" | "retry" | "failed"
  int smtp_code = 0;
};

// ---- alerts and audit --------------------------------------------------------------------

struct AlertRecord {
  std::int64_t id = 0;
  AlertKind kind = AlertKind::kLostCardSeen;
  // Where; none for deployment-wide alerts (mail failing, a call-centre account's access).
  std::optional<FacilityId> facility;
  std::optional<ChildId> child;
  TimePoint at;
  // IDs and tokens only, never names: "date=2026-12-02", "agent=3", "guardian=12", "staff=4".
  // Kind, facility, child and detail together name the situation an alert is about.
  std::string detail;
  bool acknowledged = false;
  // Who acknowledged it, when, and their note (set together by AlertTable::Acknowledge).
  std::optional<TimePoint> acknowledged_at;
  std::string acknowledged_by;
  std::string ack_note;
  // When the staff alert mail went out (or was found to have no one to go to).
  std::optional<TimePoint> mailed_at;
};

struct AuditEntry {
  std::int64_t id = 0;
  TimePoint at;
  std::string actor;
  std::string action;  // "facility.add", "agent.enroll", "card.assign", ...
  std::string detail;  // IDs and tokens, never personal data
  std::string prev_hash;
  std::string hash;  // see services/audit_log.hpp
};

// ---- staff (the console) -----------------------------------------------------------------

using StaffId = Id<struct StaffTag>;

enum class StaffRole { kFacility, kCallCenter, kOperator, kAdmin, kAuditor };
inline constexpr EnumNames<StaffRole, 5> kStaffRoleNames{"staff role",
                                                         {{{StaffRole::kFacility, "facility"},
                                                           {StaffRole::kCallCenter, "callcenter"},
                                                           {StaffRole::kOperator, "operator"},
                                                           {StaffRole::kAdmin, "admin"},
                                                           {StaffRole::kAuditor, "auditor"}}}};
static_assert(kStaffRoleNames.IsDense());

enum class StaffStatus { kActive, kDisabled };
inline constexpr EnumNames<StaffStatus, 2> kStaffStatusNames{
    "staff status", {{{StaffStatus::kActive, "active"}, {StaffStatus::kDisabled, "disabled"}}}};
static_assert(kStaffStatusNames.IsDense());

// A console account. `facility` is set exactly for the facility role (the schema checks it).
struct Staff {
  StaffId id;
  std::string name;  // login name
  StaffRole role = StaffRole::kCallCenter;
  std::optional<FacilityId> facility;
  std::string email;          // where this person's alert mails go; empty: none
  std::string password_hash;  // libsodium crypto_pwhash_str (argon2id)
  StaffStatus status = StaffStatus::kActive;
  int failed_logins = 0;                  // consecutive failures
  std::optional<TimePoint> locked_until;  // logins refused until then
  TimePoint created_at;
  TimePoint password_changed_at;
};

// A console session, found by the hash of its cookie's value (the value is never stored).
struct StaffSession {
  std::string id_hash;
  StaffId staff;
  std::string csrf_token;
  TimePoint created_at;
  TimePoint last_seen_at;
};

}  // namespace anshin::store
