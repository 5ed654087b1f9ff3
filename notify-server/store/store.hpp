// Store: the server's durable state (facilities, agents, children, guardians, cards, taps, the
// engine's per-day state, the mail outbox and send history, alerts, the allowlist versions and
// the hash-chained audit log) behind one interface. SqliteStore implements it on an embedded
// SQLite file; a PostgreSQL store can implement it for multi-node deployments (the outbox is
// then claimed with FOR UPDATE SKIP LOCKED). docs/schema.md documents the tables.
//
// Thread-safety: every method may be called from any thread. Writes are serialized inside the
// store. A WriteTxn is a unit of work owned by one thread at a time; while it is alive it holds
// the store's single writer, so keep it short and never block on anything else inside it.
//
// Ownership: results are values; the store keeps no reference to arguments.
//
// Failures: NotFound (the named row does not exist), AlreadyExists (a unique value used twice),
// InvalidArgument (a value the schema refuses), FailedPrecondition (state forbids it, e.g. an
// expired verification code), ResourceExhausted (too many verification attempts or sends),
// Unavailable (the database is busy or the disk failed: retry later), Internal (a bug or an
// unexpected library failure). Messages carry the database's own text (sqlite3_errmsg).
// Mutating administrative methods take an Actor and write the audit row in the same
// transaction as the change: a change without its audit row never commits.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/engine.hpp"
#include "common/status.hpp"
#include "common/time.hpp"
#include "common/types.hpp"
#include "common/wire.hpp"

namespace anshin::store {

// ---- Reference data ----------------------------------------------------------------------

// A facility and its engine parameters. `rules.zone` is not stored: the store fills it with a
// fixed-offset placeholder and callers load `tz_name` with sys::LoadTimeZone.
struct Facility {
  FacilityId id;
  std::string code;  // short unique code used by staff and the CLI ("hikarigaoka-1")
  std::string name;  // display name used in mails
  std::string tz_name = "Asia/Tokyo";
  FacilityRules rules;
  LocalTime opens = LocalTime::HM(13, 0);  // opening hours on school days (silence monitoring)
  LocalTime closes = LocalTime::HM(19, 0);
};

enum class AgentStatus { kActive, kDisabled, kRevoked };
std::string_view AgentStatusName(AgentStatus s);  // "active" | "disabled" | "revoked"
Result<AgentStatus> ParseAgentStatus(std::string_view s);

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
  bool skew_flagged() const {
    return skew_ms > kSkewFlagThreshold.count() || skew_ms < -kSkewFlagThreshold.count();
  }
};

enum class ChildStatus { kEnrolled, kWithdrawn };
std::string_view ChildStatusName(ChildStatus s);  // "enrolled" | "withdrawn"

struct Child {
  ChildId id;
  std::string name;  // display name used in mails ("練馬 さくら")
  FacilityId facility;
  ChildSchedule schedule;
  ChildStatus status = ChildStatus::kEnrolled;
  std::optional<TimePoint> withdrawn_at;
};

enum class Charset { kUtf8, kIso2022Jp };
std::string_view CharsetName(Charset c);  // "utf-8" | "iso-2022-jp"
Result<Charset> ParseCharset(std::string_view s);

struct Guardian {
  GuardianId id;
  ChildId child;
  std::string email;
  bool verified = false;
  bool wants_arrival = true;
  bool wants_departure = true;
  Charset charset = Charset::kUtf8;
  bool bouncing = false;
};

struct Card {
  CardToken token;
  ChildId child;
  CardStatus status = CardStatus::kActive;
  TimePoint issued_at;
  std::optional<TimePoint> retired_at;
};

// Who made an administrative change (the operator's OS or console user) and when.
struct Actor {
  std::string user;
  TimePoint at;
};

// ---- Verification of guardians' addresses ------------------------------------------------

inline constexpr Millis kVerificationCodeLifetime{24 * 3600 * 1000};
inline constexpr int kMaxVerificationAttempts = 5;
inline constexpr int kMaxVerificationSendsPerDay = 5;

// What AddGuardian / ResendVerification created: the one-time code and link token are handed
// to the outbox in clear (the mail needs them) and stored hashed on the guardian.
struct VerificationTicket {
  GuardianId guardian;
  std::string code;        // 6 digits
  std::string link_token;  // 32 hex characters
  TimePoint expires_at;
  std::int64_t outbox_id = 0;
};

// ---- Ingest --------------------------------------------------------------------------------

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
};

// A guardian who should receive a notice.
struct NoticeTarget {
  GuardianId guardian;
};

enum class OutboxKind {
  kArrival,
  kDeparture,
  kInferredDeparture,
  kCorrection,
  kVerification,
  kTest
};
std::string_view OutboxKindName(OutboxKind k);  // "arrival" | ... | "verification" | "test"
Result<OutboxKind> ParseOutboxKind(std::string_view s);
OutboxKind OutboxKindOf(NoticeKind k);

enum class OutboxState { kQueued, kSending, kSent, kRetrying, kFailed };
std::string_view OutboxStateName(OutboxState s);  // "queued" | "sending" | ...
Result<OutboxState> ParseOutboxState(std::string_view s);

struct NewOutboxRow {
  OutboxKind kind = OutboxKind::kArrival;
  GuardianId guardian;
  std::optional<ChildId> child;
  std::optional<FacilityId> facility;
  std::optional<TimePoint> tap_at;
  std::optional<TimePoint> arrival_at;
  bool late = false;
  TimePoint created_at;
};

struct AlertRecord {
  std::int64_t id = 0;
  AlertKind kind = AlertKind::kLostCardSeen;
  FacilityId facility;
  std::optional<ChildId> child;
  TimePoint at;
  std::string detail;  // IDs and tokens only, never names
  bool acknowledged = false;
};

// A child's day that still has an open visit and has not raised its closing alert yet.
struct OpenDay {
  ChildId child;
  FacilityId facility;
  ChildDay day;
};

// A unit of work on the store's writer: everything done through it commits atomically with
// Commit(); destroying it without Commit() rolls back. Savepoints let a caller that groups
// several independent requests in one transaction undo one of them alone (group commit).
class WriteTxn {
 public:
  virtual ~WriteTxn() = default;

  virtual Status Savepoint() = 0;          // nests are not needed: one at a time
  virtual Status ReleaseSavepoint() = 0;   // keep what was done since Savepoint()
  virtual Status RollbackSavepoint() = 0;  // undo what was done since Savepoint()
  virtual Status Commit() = 0;             // durable when it returns ok (synchronous=FULL)

  virtual Result<std::optional<Agent>> FindAgent(std::string_view name) = 0;
  virtual Result<Facility> GetFacility(FacilityId id) = 0;
  virtual Result<std::vector<Facility>> ListFacilities() = 0;
  // The tap stored under (agent, seq), or nullopt. Ingest compares it with a re-sent tap to
  // tell an idempotent retry from a reused seq.
  virtual Result<std::optional<TapRecord>> FindTap(AgentId agent, std::uint64_t seq) = 0;
  // The card and its child, whatever the card's status; nullopt for an unknown token.
  virtual Result<std::optional<CardInfo>> FindCard(const CardToken& token) = 0;
  virtual Result<ChildSchedule> GetSchedule(ChildId child) = 0;
  // The stored day, or a fresh ChildDay{date} when none is stored.
  virtual Result<ChildDay> LoadChildDay(ChildId child, FacilityId facility,
                                        const LocalDate& date) = 0;
  virtual Status SaveChildDay(ChildId child, FacilityId facility, const ChildDay& day) = 0;
  virtual Result<std::vector<OpenDay>> OpenDays(FacilityId facility, const LocalDate& date) = 0;
  virtual Status InsertTap(const TapRecord& tap) = 0;
  // Verified, non-bouncing guardians of the child who want this kind of notice.
  virtual Result<std::vector<NoticeTarget>> NoticeTargets(ChildId child, NoticeKind kind) = 0;
  virtual Result<std::int64_t> InsertOutbox(const NewOutboxRow& row) = 0;
  virtual Result<std::int64_t> InsertAlert(const AlertRecord& alert) = 0;
  // Advances from `acked_through` over stored seqs while they are contiguous; returns the new
  // contiguous end and the first missing range after it (if a later seq is stored).
  virtual Result<std::pair<std::uint64_t, std::optional<wire::SeqGap>>> ContiguousThrough(
      AgentId agent, std::uint64_t acked_through) = 0;
  virtual Status UpdateAgentContact(AgentId agent, TimePoint last_contact, std::int64_t skew_ms,
                                    const std::optional<std::string>& health_json,
                                    std::uint64_t acked_through,
                                    const std::optional<wire::SeqGap>& gap) = 0;
  virtual Result<std::uint64_t> AllowlistVersion() = 0;
};

// ---- Mail ------------------------------------------------------------------------------

// An outbox row claimed for sending, joined with what rendering needs.
struct OutboxItem {
  std::int64_t id = 0;
  OutboxKind kind = OutboxKind::kArrival;
  GuardianId guardian;
  std::string email;
  Charset charset = Charset::kUtf8;
  std::optional<ChildId> child;
  std::string child_name;  // empty for kinds without a child
  std::optional<FacilityId> facility;
  std::string facility_name;
  std::string facility_tz;  // zone name, e.g. "Asia/Tokyo"
  std::optional<TimePoint> tap_at;
  std::optional<TimePoint> arrival_at;
  bool late = false;
  std::string verification_code;  // kVerification only
  std::string link_token;         // kVerification only
  int attempts = 0;               // attempts before this one
  TimePoint created_at;
};

struct SendResult {
  enum class Outcome { kSent, kRetry, kFailed };
  std::int64_t outbox_id = 0;
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

struct OutboxRow {
  std::int64_t id = 0;
  OutboxKind kind = OutboxKind::kArrival;
  GuardianId guardian;
  std::optional<ChildId> child;
  std::optional<FacilityId> facility;
  std::optional<TimePoint> tap_at;
  std::optional<TimePoint> arrival_at;
  bool late = false;
  OutboxState state = OutboxState::kQueued;
  int attempts = 0;
  TimePoint next_attempt_at;
  TimePoint created_at;
  std::string last_error;
  std::string relay_reply;
  std::string message_id;
  std::optional<TimePoint> sent_at;
};

// ---- Audit -------------------------------------------------------------------------------

struct AuditEntry {
  std::int64_t id = 0;
  TimePoint at;
  std::string actor;
  std::string action;  // "facility.add", "agent.enroll", "card.assign", ...
  std::string detail;  // IDs and tokens, never personal data
  std::string prev_hash;
  std::string hash;  // hex SHA-256(prev_hash || at || actor || action || detail)
};

// ---- The interface -------------------------------------------------------------------------

class Store {
 public:
  virtual ~Store() = default;

  // -- unit of work for ingest and scheduled checks
  virtual Result<std::unique_ptr<WriteTxn>> BeginWrite() = 0;

  // -- facilities
  virtual Result<FacilityId> AddFacility(const Facility& f, const Actor& who) = 0;
  virtual Status UpdateFacility(const Facility& f, const Actor& who) = 0;  // by f.id
  virtual Result<Facility> GetFacilityByCode(std::string_view code) = 0;
  virtual Result<std::vector<Facility>> ListFacilities() = 0;

  // -- agents
  virtual Result<AgentId> AddAgent(const Agent& a, const Actor& who) = 0;
  virtual Status SetAgentStatus(std::string_view name, AgentStatus status, const Actor& who) = 0;
  virtual Result<Agent> GetAgent(std::string_view name) = 0;
  virtual Result<std::vector<Agent>> ListAgents() = 0;

  // -- children, cards, guardians
  virtual Result<ChildId> AddChild(const Child& c, const Actor& who) = 0;
  virtual Result<Child> GetChild(ChildId id) = 0;
  // Makes `token` the child's only active card: the previous active card is retired at once.
  // Bumps the allowlist version.
  virtual Status AssignCard(ChildId child, const CardToken& token, const Actor& who) = 0;
  virtual Status MarkCardLost(const CardToken& token, const Actor& who) = 0;
  virtual Result<CardToken> MarkChildCardLost(ChildId child,
                                              const Actor& who) = 0;  // its active card
  virtual Result<std::vector<Card>> ListCards(ChildId child) = 0;
  // Creates an unverified guardian and queues a verification mail with a fresh code and link.
  virtual Result<VerificationTicket> AddGuardian(const Guardian& g, const Actor& who) = 0;
  // A new code and link (the old ones stop working); rate-limited per day.
  virtual Result<VerificationTicket> ResendVerification(GuardianId id, const Actor& who) = 0;
  virtual Result<Guardian> GetGuardian(GuardianId id) = 0;
  virtual Status VerifyGuardianByCode(GuardianId id, std::string_view code, TimePoint now) = 0;
  virtual Result<GuardianId> VerifyGuardianByLink(std::string_view link_token, TimePoint now) = 0;

  // -- allowlist (tokens of active and lost cards; lost cards stay so their taps reach the
  //    server and raise the "lost card seen" alert)
  virtual Result<wire::AllowlistDelta> Allowlist(std::uint64_t since) = 0;

  // -- taps and alerts (console and tests)
  virtual Result<std::vector<TapRecord>> ListTaps(AgentId agent, std::uint64_t after_seq,
                                                  int limit) = 0;
  virtual Result<std::vector<AlertRecord>> ListAlerts(bool unacknowledged_only) = 0;

  // -- mail outbox
  // Moves up to `limit` due queued/retrying rows to sending, oldest first, and returns them.
  virtual Result<std::vector<OutboxItem>> ClaimOutbox(int limit, TimePoint now) = 0;
  // Records many attempts in one transaction: state, send_log rows, bouncing guardians.
  virtual Status RecordSendResults(std::span<const SendResult> results) = 0;
  // At start-up: rows left in sending by a crash go back to queued. Returns how many.
  virtual Result<int> RequeueStaleSending() = 0;
  virtual Result<OutboxStats> GetOutboxStats(TimePoint now) = 0;
  // Queues a test mail to every verified, non-bouncing guardian. Returns how many.
  virtual Result<int> EnqueueTestMails(TimePoint now) = 0;
  virtual Result<std::vector<OutboxRow>> ListOutbox(std::optional<ChildId> child) = 0;
  virtual Result<std::vector<SendLogEntry>> SendLog(std::int64_t outbox_id) = 0;

  // -- audit
  // Appends an entry for a change made outside the store's own methods.
  virtual Status AppendAudit(const Actor& who, std::string_view action,
                             std::string_view detail) = 0;
  virtual Result<std::vector<AuditEntry>> ListAudit() = 0;
  // Recomputes the chain; InternalError naming the first row that does not match.
  virtual Status VerifyAuditChain() = 0;
};

}  // namespace anshin::store
