// Store: the server's durable state behind one small interface, in the manner of leveldb's
// Env: the store holds data, services hold rules (docs/architecture.md).
//
// Everything is done inside a transaction. BeginRead() gives a consistent snapshot (ReadTxn);
// BeginWrite() gives the single writer (WriteTxn), which commits atomically with Commit() and
// rolls back when destroyed without it. A transaction hands out one view per table family:
//
//   facilities()  facilities and their engine parameters
//   agents()      facility PCs, their certificates and last contact
//   children()    enrolled children and their expected departure times
//   guardians()   guardians' addresses, preferences and pending verification
//   cards()       cards and the versioned allowlist the agents download
//   attendance()  taps with their decisions, and the engine's per-day state
//   outbox()      mail to send and the send history
//   alerts()      alerts raised for staff
//   audit()       the append-only audit log (the hash chain is services/audit_log's job)
//   jobs()        runs of scheduled jobs, so a job runs once per period across restarts
//   staff()       console accounts and their sessions
//
// Each family is a View (reads) and a Table (a View plus writes); a ReadTxn hands out Views and
// a WriteTxn Tables, so a write on a snapshot does not compile. Methods run SQL only: they
// check nothing the schema does not (no validation, no lifecycle, no limits).
//
// Thread-safety: a Store may be used from any thread. A transaction is used by one thread at a
// time. A WriteTxn holds the store's single writer while alive: keep it short and never block
// on anything else inside it. Read transactions run in parallel with each other and with the
// writer (an implementation keeps a connection per concurrent reader).
//
// Ownership: results are values; the store keeps no reference to arguments. Views and tables
// are owned by their transaction and valid while it lives.
//
// Failures: NotFound (the named row does not exist), AlreadyExists (a unique value used
// twice), InvalidArgument (a value the schema refuses, e.g. a reference to a missing row),
// Unavailable (busy, disk full or failing: retry later), Internal (a bug or an unexpected
// library failure; also a stored value that cannot be read back). Messages carry the
// database's own text and may quote SQL: log them, never send them to a client.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.hpp"
#include "store/records.hpp"

namespace anshin::store {

// ---- registry ----------------------------------------------------------------------------

class FacilityView {
 public:
  virtual ~FacilityView() = default;
  virtual Result<Facility> Get(FacilityId id) = 0;
  virtual Result<std::optional<Facility>> FindByCode(std::string_view code) = 0;
  virtual Result<std::vector<Facility>> List() = 0;  // by code
  // The facility's calendar entry for `date`, or nullopt (an ordinary day).
  virtual Result<std::optional<CalendarDay>> Calendar(FacilityId facility,
                                                      const LocalDate& date) = 0;
};
class FacilityTable : public FacilityView {
 public:
  virtual Result<FacilityId> Insert(const Facility& f, TimePoint created_at) = 0;
  virtual Status Update(const Facility& f) = 0;  // by f.id
  // Writes (or replaces) the calendar entry of day.facility on day.date.
  virtual Status SetCalendar(const CalendarDay& day) = 0;
};

class ChildView {
 public:
  virtual ~ChildView() = default;
  virtual Result<Child> Get(ChildId id) = 0;
  virtual Result<ChildSchedule> Schedule(ChildId id) = 0;  // the engine's part of Get()
  // The child with this child number, or nullopt.
  virtual Result<std::optional<ChildId>> FindByNumber(std::string_view number) = 0;
  // The children `query` selects, by id, at most query.limit of them.
  virtual Result<std::vector<Child>> Find(const ChildQuery& query) = 0;
  // Withdrawn children not yet purged whose withdrawn_at is before `cutoff`, by id, at most
  // `limit` of them.
  virtual Result<std::vector<ChildId>> WithdrawnBefore(TimePoint cutoff, int limit) = 0;
  // The child's absences that overlap [from, to] (inclusive), by start date.
  virtual Result<std::vector<Absence>> Absences(ChildId child, const LocalDate& from,
                                                const LocalDate& to) = 0;
  // Children of the facility recorded absent on `date`.
  virtual Result<std::vector<ChildId>> AbsentOn(FacilityId facility, const LocalDate& date) = 0;
};
class ChildTable : public ChildView {
 public:
  virtual Result<ChildId> Insert(const Child& c, TimePoint created_at) = 0;
  // Writes every field of the row c.id (NotFound when there is none).
  virtual Status Update(const Child& c) = 0;
  // Blanks the child's name and kana and sets purged_at (NotFound when there is no such row).
  virtual Status MarkPurged(ChildId id, TimePoint at) = 0;
  virtual Result<std::int64_t> InsertAbsence(const Absence& a) = 0;
};

class GuardianView {
 public:
  virtual ~GuardianView() = default;
  virtual Result<Guardian> Get(GuardianId id) = 0;
  // The child's guardians not removed, by id (Get() also returns removed ones).
  virtual Result<std::vector<Guardian>> OfChild(ChildId child) = 0;
  // Verified, non-bouncing guardians of the child who chose this kind of notice, by id.
  virtual Result<std::vector<GuardianId>> NoticeTargets(ChildId child, NoticeKind kind) = 0;
  virtual Result<VerificationState> Verification(GuardianId id) = 0;
  virtual Result<std::optional<GuardianId>> FindByLinkHash(std::string_view link_hash) = 0;
  // Guardians not removed whose address is `email` compared without regard to ASCII case
  // (siblings' guardians share an address), by id.
  virtual Result<std::vector<GuardianId>> FindByEmail(std::string_view email) = 0;
};
class GuardianTable : public GuardianView {
 public:
  virtual Result<GuardianId> Insert(const Guardian& g, TimePoint created_at) = 0;
  virtual Status SetVerification(GuardianId id, const VerificationState& v) = 0;
  virtual Status SetBouncing(GuardianId id, bool bouncing) = 0;
  // Writes the address, choices, charset, verified and bouncing flags of row g.id; a row that
  // stops being verified loses verified_at (NotFound when there is none).
  virtual Status Update(const Guardian& g) = 0;
  // Marks the guardian removed at `at`: the address is erased and its pending verification
  // cleared; the row stays, referenced by its send history (NotFound when there is none).
  virtual Status Remove(GuardianId id, TimePoint at) = 0;
  // Deletes the child's guardians with their outbox rows and those rows' send history;
  // returns how many guardians.
  virtual Result<int> DeleteOfChild(ChildId child) = 0;
};

enum class AllowlistOp { kAdd, kRemove };

class CardView {
 public:
  virtual ~CardView() = default;
  virtual Result<std::optional<Card>> Find(const CardToken& token) = 0;
  virtual Result<std::optional<Card>> ActiveOf(ChildId child) = 0;
  virtual Result<std::vector<Card>> OfChild(ChildId child) = 0;  // by issue time
  // The allowlist: the latest change's version (0: none), the oldest change still kept, the
  // tokens of every card it lists now, and the net change per token after `since`.
  virtual Result<std::uint64_t> AllowlistVersion() = 0;
  virtual Result<std::uint64_t> OldestAllowlistVersion() = 0;
  virtual Result<std::vector<CardToken>> AllowlistTokens() = 0;
  virtual Result<std::vector<std::pair<CardToken, AllowlistOp>>> AllowlistChangesSince(
      std::uint64_t since) = 0;
  // The card's status changes, oldest first; the first is its issue (empty: no such card).
  virtual Result<std::vector<CardStatusChange>> StatusHistory(const CardToken& token) = 0;
  // Cards with this status (every card when nullopt), by child, then issue time.
  virtual Result<std::vector<Card>> List(std::optional<CardStatus> status) = 0;
  // Of the tokens AllowlistChangesSince(since) reports added, those whose latest change listed
  // them as lost (since = 0: every lost token of the list).
  virtual Result<std::vector<CardToken>> AllowlistLostSince(std::uint64_t since) = 0;
  // Active cards of enrolled children to put in the post: of the facility and/or child when
  // given, not yet shipped unless `shipped_too`; by facility code, child number (children
  // without one last), child id.
  virtual Result<std::vector<Card>> ActiveToShip(std::optional<FacilityId> facility,
                                                 std::optional<ChildId> child,
                                                 bool shipped_too) = 0;
  // Enrolled children (of the facility when given) with no active card, by child number
  // (children without one last), then id.
  virtual Result<std::vector<ChildId>> ChildrenWithoutActiveCard(
      std::optional<FacilityId> facility) = 0;
};
class CardTable : public CardView {
 public:
  // Insert and SetStatus also append to the card's status history (issue: c.issued_at).
  virtual Status Insert(const Card& c) = 0;
  // Sets the status; `retired_at` is written when it becomes kRetired.
  virtual Status SetStatus(const CardToken& token, CardStatus status, TimePoint at) = 0;
  virtual Status RecordAllowlistChange(const CardToken& token, AllowlistOp op, TimePoint at) = 0;
  // A change that keeps the token listed and says whether it is lost (the agents' feedback).
  virtual Status RecordAllowlistLost(const CardToken& token, bool lost, TimePoint at) = 0;
  // Sets shipped_at (NotFound: no such card).
  virtual Status MarkShipped(const CardToken& token, TimePoint at) = 0;
};

// ---- agents ------------------------------------------------------------------------------

class AgentView {
 public:
  virtual ~AgentView() = default;
  virtual Result<std::optional<Agent>> Find(std::string_view name) = 0;
  virtual Result<std::vector<Agent>> List() = 0;  // by name
  // The agent's skew samples taken at or after `since`, oldest first; the latest one.
  virtual Result<std::vector<SkewSample>> SkewSamples(AgentId id, TimePoint since) = 0;
  virtual Result<std::optional<SkewSample>> LastSkewSample(AgentId id) = 0;
};
class AgentTable : public AgentView {
 public:
  virtual Result<AgentId> Insert(const Agent& a) = 0;
  virtual Status SetStatus(AgentId id, AgentStatus status) = 0;
  virtual Status RecordContact(AgentId id, const AgentContact& contact) = 0;
  // The facility's own uploader for taps staff record on the board (kind 'console', no
  // certificate, never connects), created at `at` the first time it is asked for.
  virtual Result<AgentId> ConsoleUploader(FacilityId facility, TimePoint at) = 0;
  // A new client certificate (renewal): its fingerprint and expiry (NotFound: no such agent).
  virtual Status SetCertificate(AgentId id, std::string_view cert_sha256, TimePoint not_after) = 0;
  // Sets acked_through and the recorded gap (NotFound: no such agent).
  virtual Status SetAcked(AgentId id, std::uint64_t acked_through,
                          const std::optional<wire::SeqGap>& gap) = 0;
  // A sample at the same (agent, at) replaces the earlier one.
  virtual Status RecordSkewSample(AgentId id, const SkewSample& sample) = 0;
  // Deletes at most `limit` samples taken before `cutoff`; returns how many.
  virtual Result<int> DeleteSkewSamplesBefore(TimePoint cutoff, int limit) = 0;
};

// ---- attendance --------------------------------------------------------------------------

class AttendanceView {
 public:
  virtual ~AttendanceView() = default;
  // The tap stored under (agent, seq), or nullopt.
  virtual Result<std::optional<TapRecord>> FindTap(AgentId agent, std::uint64_t seq) = 0;
  virtual Result<std::vector<TapRecord>> TapsOfAgent(AgentId agent, std::uint64_t after_seq,
                                                     int limit) = 0;
  // The agent's highest stored seq (0: none).
  virtual Result<std::uint64_t> LastSeq(AgentId agent) = 0;
  // The child's taps judged in [from, to), by judged time (corrected_at), then agent and seq.
  virtual Result<std::vector<TapRecord>> TapsOfChild(ChildId child, TimePoint from,
                                                     TimePoint to) = 0;
  // Walks the agent's stored seqs forward from `acked_through` while they are contiguous;
  // returns the contiguous end and the first missing range after it (if a later seq exists).
  virtual Result<std::pair<std::uint64_t, std::optional<wire::SeqGap>>> ContiguousThrough(
      AgentId agent, std::uint64_t acked_through) = 0;
  // The stored day, or a fresh ChildDay{date} when none is stored.
  virtual Result<ChildDay> LoadChildDay(ChildId child, FacilityId facility,
                                        const LocalDate& date) = 0;
  // Days of the facility on `date` with an open visit whose closing alert was not raised.
  virtual Result<std::vector<OpenDay>> OpenDays(FacilityId facility, const LocalDate& date) = 0;
  // The stored days of the facility with from <= date < to, by child, then date.
  virtual Result<std::vector<StoredChildDay>> DaysOfFacility(FacilityId facility,
                                                             const LocalDate& from,
                                                             const LocalDate& to) = 0;
};
class AttendanceTable : public AttendanceView {
 public:
  virtual Status InsertTap(const TapRecord& tap) = 0;
  virtual Status SaveChildDay(ChildId child, FacilityId facility, const ChildDay& day) = 0;
  // Delete at most `limit` taps judged before `cutoff` / days dated before `date`; return how
  // many (a caller repeats until 0, one short transaction per batch).
  virtual Result<int> DeleteTapsBefore(TimePoint cutoff, int limit) = 0;
  virtual Result<int> DeleteChildDaysBefore(const LocalDate& date, int limit) = 0;
};

// ---- outbox and send history -------------------------------------------------------------

class OutboxView {
 public:
  virtual ~OutboxView() = default;
  virtual Result<std::vector<OutboxRow>> List(std::optional<ChildId> child) = 0;  // by id
  virtual Result<std::vector<SendLogEntry>> SendLog(std::int64_t outbox_id) = 0;
  virtual Result<OutboxStats> Stats(TimePoint now) = 0;
  // The send history's attempts with from <= at < to, by time then id, joined with what the
  // ward's monthly send log shows (never an address).
  virtual Result<std::vector<SendLogReportRow>> SendLogBetween(TimePoint from, TimePoint to) = 0;
};
class OutboxTable : public OutboxView {
 public:
  virtual Result<std::int64_t> Insert(const OutboxMessage& m) = 0;
  // Moves up to `limit` due queued/retrying rows to sending, oldest due first; returns them.
  // Only a guardian's oldest unsent row (queued, sending or retrying) is ever claimed, so each
  // guardian's mail leaves in the order it was queued, whatever retries and parallel sessions
  // do: the next row waits until the one before it is sent or given up.
  virtual Result<std::vector<OutboxItem>> Claim(int limit, TimePoint now) = 0;
  // Records one attempt: the row's new state and a send_log entry. NotFound for no such row.
  virtual Status RecordAttempt(const SendResult& r) = 0;
  // Rows left `sending` (by a crash) back to queued; returns how many.
  virtual Result<int> RequeueSending() = 0;
  // Unsent verification mails of the guardian become failed with `reason` and lose their
  // code and link; returns how many.
  virtual Result<int> DropPendingVerification(GuardianId guardian, std::string_view reason) = 0;
  // Every unsent mail of the guardian (any kind) becomes failed with `reason`; verification
  // mails lose their code and link. For an address that changed or was removed: a queued
  // notice must not go to the new address; returns how many.
  virtual Result<int> DropPendingMail(GuardianId guardian, std::string_view reason) = 0;
  // Queues a test mail to every verified, non-bouncing guardian of the facility's enrolled
  // children; returns how many.
  virtual Result<int> InsertTestMails(FacilityId facility, TimePoint now) = 0;
  // Delete at most `limit` send_log entries made before `cutoff` / sent or failed outbox rows
  // created before `cutoff` that have no send_log entry left; return how many.
  virtual Result<int> DeleteSendLogBefore(TimePoint cutoff, int limit) = 0;
  virtual Result<int> DeleteOutboxBefore(TimePoint cutoff, int limit) = 0;
};

// ---- alerts, audit, jobs -----------------------------------------------------------------

class AlertView {
 public:
  virtual ~AlertView() = default;
  virtual Result<std::vector<AlertRecord>> List(bool unacknowledged_only) = 0;  // by id
  virtual Result<AlertRecord> Get(std::int64_t id) = 0;
  // Alerts whose staff mail has not gone out yet, oldest first, at most `limit`.
  virtual Result<std::vector<AlertRecord>> Unmailed(int limit) = 0;
};
class AlertTable : public AlertView {
 public:
  virtual Result<std::int64_t> Insert(const AlertRecord& a) = 0;
  // Marks the alert acknowledged by who.user at who.at with the note (NotFound: no such
  // alert). Acknowledging again overwrites the earlier acknowledgement.
  virtual Status Acknowledge(std::int64_t id, const Actor& who, std::string_view note) = 0;
  // When an alert about the same situation (kind, facility, child, detail) was last raised;
  // nullopt when never. The checks raise an alert once per situation with it.
  virtual Result<std::optional<TimePoint>> LastRaised(const AlertRecord& situation) = 0;
  virtual Status MarkMailed(std::int64_t id, TimePoint at) = 0;
};

class AuditView {
 public:
  virtual ~AuditView() = default;
  virtual Result<std::optional<AuditEntry>> Last() = 0;
  virtual Result<std::vector<AuditEntry>> List() = 0;  // by id
};
class AuditTable : public AuditView {
 public:
  virtual Result<std::int64_t> Append(const AuditEntry& e) = 0;  // id and hashes as given
};

class JobView {
 public:
  virtual ~JobView() = default;
  virtual Result<bool> HasRun(std::string_view job, std::string_view period) = 0;
};
class JobTable : public JobView {
 public:
  // Records that `job` ran for `period` ("monthly-test:hikari1", "2026-12"); false when it was
  // already recorded (then nothing changes).
  virtual Result<bool> RecordRun(std::string_view job, std::string_view period, TimePoint at) = 0;
};

// ---- staff (the console) -----------------------------------------------------------------

class StaffView {
 public:
  virtual ~StaffView() = default;
  virtual Result<Staff> Get(StaffId id) = 0;
  virtual Result<std::optional<Staff>> FindByName(std::string_view name) = 0;
  virtual Result<std::vector<Staff>> List() = 0;  // by name
  // The session whose cookie hashes to `id_hash`, or nullopt.
  virtual Result<std::optional<StaffSession>> FindSession(std::string_view id_hash) = 0;
};
class StaffTable : public StaffView {
 public:
  virtual Result<StaffId> Insert(const Staff& s) = 0;  // AlreadyExists: the name is taken
  virtual Status SetPassword(StaffId id, std::string_view password_hash, TimePoint at) = 0;
  virtual Status SetStatus(StaffId id, StaffStatus status) = 0;
  // Writes the failure count and lock-out as the caller computed them (a success writes 0 and
  // nullopt).
  virtual Status SetLoginState(StaffId id, int failed_logins,
                               std::optional<TimePoint> locked_until) = 0;
  virtual Status InsertSession(const StaffSession& s) = 0;
  virtual Status TouchSession(std::string_view id_hash, TimePoint at) = 0;  // NotFound: none
  virtual Status DeleteSession(std::string_view id_hash) = 0;  // none: nothing to do, ok
  virtual Result<int> DeleteSessionsOf(StaffId id) = 0;        // how many
};

// ---- transactions ------------------------------------------------------------------------

class ReadTxn {
 public:
  virtual ~ReadTxn() = default;
  virtual FacilityView& facilities() = 0;
  virtual AgentView& agents() = 0;
  virtual ChildView& children() = 0;
  virtual GuardianView& guardians() = 0;
  virtual CardView& cards() = 0;
  virtual AttendanceView& attendance() = 0;
  virtual OutboxView& outbox() = 0;
  virtual AlertView& alerts() = 0;
  virtual AuditView& audit() = 0;
  virtual JobView& jobs() = 0;
  virtual StaffView& staff() = 0;
};

class WriteTxn : public ReadTxn {
 public:
  FacilityTable& facilities() override = 0;
  AgentTable& agents() override = 0;
  ChildTable& children() override = 0;
  GuardianTable& guardians() override = 0;
  CardTable& cards() override = 0;
  AttendanceTable& attendance() override = 0;
  OutboxTable& outbox() override = 0;
  AlertTable& alerts() override = 0;
  AuditTable& audit() override = 0;
  JobTable& jobs() override = 0;
  StaffTable& staff() override = 0;

  // Savepoints let a caller that groups independent requests in one transaction undo one of
  // them alone (group commit). One at a time; nesting is not needed.
  virtual Status Savepoint() = 0;
  virtual Status ReleaseSavepoint() = 0;   // keep what was done since Savepoint()
  virtual Status RollbackSavepoint() = 0;  // undo what was done since Savepoint()
  // Durable when it returns ok. After a failed Commit() the transaction is rolled back.
  virtual Status Commit() = 0;
};

class Store {
 public:
  virtual ~Store() = default;
  virtual Result<std::unique_ptr<ReadTxn>> BeginRead() = 0;
  virtual Result<std::unique_ptr<WriteTxn>> BeginWrite() = 0;
};

// Runs `fn(WriteTxn&)` in a write transaction and commits when it returns ok; returns fn's
// result (or the commit's failure).
template <typename Fn>
auto InWrite(Store& store, Fn&& fn) -> decltype(fn(std::declval<WriteTxn&>())) {
  ANSHIN_ASSIGN_OR_RETURN(std::unique_ptr<WriteTxn> txn, store.BeginWrite());
  auto result = fn(*txn);
  if (!result.ok()) return result;
  ANSHIN_RETURN_IF_ERROR(txn->Commit());
  return result;
}

// Runs `fn(ReadTxn&)` on a snapshot and returns its result.
template <typename Fn>
auto InRead(Store& store, Fn&& fn) -> decltype(fn(std::declval<ReadTxn&>())) {
  ANSHIN_ASSIGN_OR_RETURN(std::unique_ptr<ReadTxn> txn, store.BeginRead());
  return fn(*txn);
}

}  // namespace anshin::store
