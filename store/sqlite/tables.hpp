// The SQLite implementation of each table family (store/store.hpp), one class per family, each
// working on the connection of the transaction that owns it. One .cpp file per family.
// Internal to store/sqlite: callers see only the Store interfaces.
#pragma once

#include "common/sqlite/sqlite.hpp"
#include "store/store.hpp"

namespace anshin::store::sqlite_impl {

using anshin::sqlite::Db;
using anshin::sqlite::Query;

class SqliteFacilities final : public FacilityTable {
 public:
  explicit SqliteFacilities(Db& db) : db_(db) {}
  Result<Facility> Get(FacilityId id) override;
  Result<std::optional<Facility>> FindByCode(std::string_view code) override;
  Result<std::vector<Facility>> List() override;
  Result<FacilityId> Insert(const Facility& f, TimePoint created_at) override;
  Status Update(const Facility& f) override;
  Result<std::optional<CalendarDay>> Calendar(FacilityId facility, const LocalDate& date) override;
  Status SetCalendar(const CalendarDay& day) override;

 private:
  Db& db_;
};

class SqliteChildren final : public ChildTable {
 public:
  explicit SqliteChildren(Db& db) : db_(db) {}
  Result<Child> Get(ChildId id) override;
  Result<ChildSchedule> Schedule(ChildId id) override;
  Result<std::optional<ChildId>> FindByNumber(std::string_view number) override;
  Result<std::vector<Child>> Find(const ChildQuery& query) override;
  Result<ChildId> Insert(const Child& c, TimePoint created_at) override;
  Status Update(const Child& c) override;
  Result<std::vector<ChildId>> WithdrawnBefore(TimePoint cutoff, int limit) override;
  Status MarkPurged(ChildId id, TimePoint at) override;
  Result<std::vector<Absence>> Absences(ChildId child, const LocalDate& from,
                                        const LocalDate& to) override;
  Result<std::vector<ChildId>> AbsentOn(FacilityId facility, const LocalDate& date) override;
  Result<std::int64_t> InsertAbsence(const Absence& a) override;

 private:
  Db& db_;
};

class SqliteGuardians final : public GuardianTable {
 public:
  explicit SqliteGuardians(Db& db) : db_(db) {}
  Result<Guardian> Get(GuardianId id) override;
  Result<std::vector<Guardian>> OfChild(ChildId child) override;
  Result<std::vector<GuardianId>> NoticeTargets(ChildId child, NoticeKind kind) override;
  Result<VerificationState> Verification(GuardianId id) override;
  Result<std::optional<GuardianId>> FindByLinkHash(std::string_view link_hash) override;
  Result<std::vector<GuardianId>> FindByEmail(std::string_view email) override;
  Result<GuardianId> Insert(const Guardian& g, TimePoint created_at) override;
  Status SetVerification(GuardianId id, const VerificationState& v) override;
  Status SetBouncing(GuardianId id, bool bouncing) override;
  Status Update(const Guardian& g) override;
  Status Remove(GuardianId id, TimePoint at) override;
  Result<int> DeleteOfChild(ChildId child) override;

 private:
  Db& db_;
};

class SqliteCards final : public CardTable {
 public:
  explicit SqliteCards(Db& db) : db_(db) {}
  Result<std::optional<Card>> Find(const CardToken& token) override;
  Result<std::optional<Card>> ActiveOf(ChildId child) override;
  Result<std::vector<Card>> OfChild(ChildId child) override;
  Result<std::uint64_t> AllowlistVersion() override;
  Result<std::uint64_t> OldestAllowlistVersion() override;
  Result<std::vector<CardToken>> AllowlistTokens() override;
  Result<std::vector<std::pair<CardToken, AllowlistOp>>> AllowlistChangesSince(
      std::uint64_t since) override;
  Status Insert(const Card& c) override;
  Status SetStatus(const CardToken& token, CardStatus status, TimePoint at) override;
  Status RecordAllowlistChange(const CardToken& token, AllowlistOp op, TimePoint at) override;
  Result<std::vector<CardStatusChange>> StatusHistory(const CardToken& token) override;
  Result<std::vector<Card>> List(std::optional<CardStatus> status) override;
  Result<std::vector<CardToken>> AllowlistLostSince(std::uint64_t since) override;
  Status RecordAllowlistLost(const CardToken& token, bool lost, TimePoint at) override;
  Result<std::vector<Card>> ActiveToShip(std::optional<FacilityId> facility,
                                         std::optional<ChildId> child, bool shipped_too) override;
  Result<std::vector<ChildId>> ChildrenWithoutActiveCard(
      std::optional<FacilityId> facility) override;
  Status MarkShipped(const CardToken& token, TimePoint at) override;

 private:
  Db& db_;
};

class SqliteAgents final : public AgentTable {
 public:
  explicit SqliteAgents(Db& db) : db_(db) {}
  Result<std::optional<Agent>> Find(std::string_view name) override;
  Result<std::vector<Agent>> List() override;
  Result<AgentId> Insert(const Agent& a) override;
  Status SetStatus(AgentId id, AgentStatus status) override;
  Status RecordContact(AgentId id, const AgentContact& contact) override;
  Result<AgentId> ConsoleUploader(FacilityId facility, TimePoint at) override;
  Result<std::vector<SkewSample>> SkewSamples(AgentId id, TimePoint since) override;
  Result<std::optional<SkewSample>> LastSkewSample(AgentId id) override;
  Status SetCertificate(AgentId id, std::string_view cert_sha256, TimePoint not_after) override;
  Status SetAcked(AgentId id, std::uint64_t acked_through,
                  const std::optional<wire::SeqGap>& gap) override;
  Status RecordSkewSample(AgentId id, const SkewSample& sample) override;
  Result<int> DeleteSkewSamplesBefore(TimePoint cutoff, int limit) override;

 private:
  Db& db_;
};

class SqliteAttendance final : public AttendanceTable {
 public:
  explicit SqliteAttendance(Db& db) : db_(db) {}
  Result<std::optional<TapRecord>> FindTap(AgentId agent, std::uint64_t seq) override;
  Result<std::vector<TapRecord>> TapsOfAgent(AgentId agent, std::uint64_t after_seq,
                                             int limit) override;
  Result<std::uint64_t> LastSeq(AgentId agent) override;
  Result<std::vector<TapRecord>> TapsOfChild(ChildId child, TimePoint from, TimePoint to) override;
  Result<std::pair<std::uint64_t, std::optional<wire::SeqGap>>> ContiguousThrough(
      AgentId agent, std::uint64_t acked_through) override;
  Result<ChildDay> LoadChildDay(ChildId child, FacilityId facility, const LocalDate& date) override;
  Result<std::vector<OpenDay>> OpenDays(FacilityId facility, const LocalDate& date) override;
  Status InsertTap(const TapRecord& tap) override;
  Status SaveChildDay(ChildId child, FacilityId facility, const ChildDay& day) override;
  Result<std::vector<StoredChildDay>> DaysOfFacility(FacilityId facility, const LocalDate& from,
                                                     const LocalDate& to) override;
  Result<int> DeleteTapsBefore(TimePoint cutoff, int limit) override;
  Result<int> DeleteChildDaysBefore(const LocalDate& date, int limit) override;

 private:
  Db& db_;
};

class SqliteOutbox final : public OutboxTable {
 public:
  explicit SqliteOutbox(Db& db) : db_(db) {}
  Result<std::vector<OutboxRow>> List(std::optional<ChildId> child) override;
  Result<std::vector<SendLogEntry>> SendLog(std::int64_t outbox_id) override;
  Result<OutboxStats> Stats(TimePoint now) override;
  Result<std::int64_t> Insert(const OutboxMessage& m) override;
  Result<std::vector<OutboxItem>> Claim(int limit, TimePoint now) override;
  Status RecordAttempt(const SendResult& r) override;
  Result<int> RequeueSending() override;
  Result<int> DropPendingVerification(GuardianId guardian, std::string_view reason) override;
  Result<int> DropPendingMail(GuardianId guardian, std::string_view reason) override;
  Result<int> InsertTestMails(FacilityId facility, TimePoint now) override;
  Result<std::vector<SendLogReportRow>> SendLogBetween(TimePoint from, TimePoint to) override;
  Result<int> DeleteSendLogBefore(TimePoint cutoff, int limit) override;
  Result<int> DeleteOutboxBefore(TimePoint cutoff, int limit) override;

 private:
  Db& db_;
};

class SqliteAlerts final : public AlertTable {
 public:
  explicit SqliteAlerts(Db& db) : db_(db) {}
  Result<std::vector<AlertRecord>> List(bool unacknowledged_only) override;
  Result<AlertRecord> Get(std::int64_t id) override;
  Result<std::int64_t> Insert(const AlertRecord& a) override;
  Result<std::optional<TimePoint>> LastRaised(const AlertRecord& situation) override;
  Result<std::vector<AlertRecord>> Unmailed(int limit) override;
  Status MarkMailed(std::int64_t id, TimePoint at) override;
  Status Acknowledge(std::int64_t id, const Actor& who, std::string_view note) override;

 private:
  Db& db_;
};

class SqliteAudit final : public AuditTable {
 public:
  explicit SqliteAudit(Db& db) : db_(db) {}
  Result<std::optional<AuditEntry>> Last() override;
  Result<std::vector<AuditEntry>> List() override;
  Result<std::int64_t> Append(const AuditEntry& e) override;

 private:
  Db& db_;
};

class SqliteJobs final : public JobTable {
 public:
  explicit SqliteJobs(Db& db) : db_(db) {}
  Result<bool> HasRun(std::string_view job, std::string_view period) override;
  Result<bool> RecordRun(std::string_view job, std::string_view period, TimePoint at) override;

 private:
  Db& db_;
};

class SqliteStaff final : public StaffTable {
 public:
  explicit SqliteStaff(Db& db) : db_(db) {}
  Result<Staff> Get(StaffId id) override;
  Result<std::optional<Staff>> FindByName(std::string_view name) override;
  Result<std::vector<Staff>> List() override;
  Result<std::optional<StaffSession>> FindSession(std::string_view id_hash) override;
  Result<StaffId> Insert(const Staff& s) override;
  Status SetPassword(StaffId id, std::string_view password_hash, TimePoint at) override;
  Status SetStatus(StaffId id, StaffStatus status) override;
  Status SetLoginState(StaffId id, int failed_logins,
                       std::optional<TimePoint> locked_until) override;
  Status InsertSession(const StaffSession& s) override;
  Status TouchSession(std::string_view id_hash, TimePoint at) override;
  Status DeleteSession(std::string_view id_hash) override;
  Result<int> DeleteSessionsOf(StaffId id) override;

 private:
  Db& db_;
};

// Every family on one connection: what a transaction hands out.
struct SqliteTables {
  explicit SqliteTables(Db& db)
      : facilities(db),
        children(db),
        guardians(db),
        cards(db),
        agents(db),
        attendance(db),
        outbox(db),
        alerts(db),
        audit(db),
        jobs(db),
        staff(db) {}
  SqliteFacilities facilities;
  SqliteChildren children;
  SqliteGuardians guardians;
  SqliteCards cards;
  SqliteAgents agents;
  SqliteAttendance attendance;
  SqliteOutbox outbox;
  SqliteAlerts alerts;
  SqliteAudit audit;
  SqliteJobs jobs;
  SqliteStaff staff;
};

// "NotFound(what)" unless `row`.
inline Status NotFoundUnless(bool row, std::string what) {
  return row ? Status::Ok() : Status::NotFound(std::move(what));
}

// Binds an optional time as Unix milliseconds or NULL.
inline Query& BindTime(Query& q, int i, const std::optional<TimePoint>& t) {
  return t ? q.Bind(i, ToUnixMillis(*t)) : q.BindNull(i);
}
inline std::optional<TimePoint> OptTime(const Query& q, int col) {
  if (auto v = q.OptInt(col)) return FromUnixMillis(*v);
  return std::nullopt;
}

}  // namespace anshin::store::sqlite_impl
