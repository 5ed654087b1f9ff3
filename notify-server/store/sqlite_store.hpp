// SqliteStore: the Store on one embedded SQLite file (WAL, synchronous=FULL by default).
//
// It holds two connections: a writer, used by one WriteTxn or administrative change at a time
// (guarded by a mutex), and a reader for queries, so reads never wait for a long group commit.
// Other processes (anshin-admin) may write the same file; busy_timeout makes them wait rather
// than fail. Migrations (ordered SQL
// in sqlite_schema.cpp) are applied at Open(), each in its own transaction, recorded in
// schema_version.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>

#include "notify-server/store/sqlite_db.hpp"
#include "notify-server/store/store.hpp"

namespace anshin::store {

struct SqliteOptions {
  std::filesystem::path path;
  SyncMode synchronous = SyncMode::kFull;
  int busy_timeout_ms = 5000;
  int max_guardians_per_child = 4;
  // The writer checkpoints the WAL into the database file when it exceeds this many pages
  // (SQLite's default is 1000; a larger WAL lets one checkpoint absorb many commits touching
  // the same pages). The WAL is truncated to 64 MiB when it restarts.
  int wal_autocheckpoint_pages = 4000;
};

// The schema version Open() migrates to.
int LatestSchemaVersion();

class SqliteStore final : public Store {
 public:
  static Result<std::unique_ptr<SqliteStore>> Open(const SqliteOptions& options);
  ~SqliteStore() override;

  // The schema version of the open database.
  Result<int> SchemaVersion();

  Result<std::unique_ptr<WriteTxn>> BeginWrite() override;

  Result<FacilityId> AddFacility(const Facility& f, const Actor& who) override;
  Status UpdateFacility(const Facility& f, const Actor& who) override;
  Result<Facility> GetFacilityByCode(std::string_view code) override;
  Result<std::vector<Facility>> ListFacilities() override;

  Result<AgentId> AddAgent(const Agent& a, const Actor& who) override;
  Status SetAgentStatus(std::string_view name, AgentStatus status, const Actor& who) override;
  Result<Agent> GetAgent(std::string_view name) override;
  Result<std::vector<Agent>> ListAgents() override;

  Result<ChildId> AddChild(const Child& c, const Actor& who) override;
  Result<Child> GetChild(ChildId id) override;
  Status AssignCard(ChildId child, const CardToken& token, const Actor& who) override;
  Status MarkCardLost(const CardToken& token, const Actor& who) override;
  Result<CardToken> MarkChildCardLost(ChildId child, const Actor& who) override;
  Result<std::vector<Card>> ListCards(ChildId child) override;
  Result<VerificationTicket> AddGuardian(const Guardian& g, const Actor& who) override;
  Result<VerificationTicket> ResendVerification(GuardianId id, const Actor& who) override;
  Result<Guardian> GetGuardian(GuardianId id) override;
  Status VerifyGuardianByCode(GuardianId id, std::string_view code, TimePoint now) override;
  Result<GuardianId> VerifyGuardianByLink(std::string_view link_token, TimePoint now) override;

  Result<wire::AllowlistDelta> Allowlist(std::uint64_t since) override;

  Result<std::vector<TapRecord>> ListTaps(AgentId agent, std::uint64_t after_seq,
                                          int limit) override;
  Result<std::vector<AlertRecord>> ListAlerts(bool unacknowledged_only) override;

  Result<std::vector<OutboxItem>> ClaimOutbox(int limit, TimePoint now) override;
  Status RecordSendResults(std::span<const SendResult> results) override;
  Result<int> RequeueStaleSending() override;
  Result<OutboxStats> GetOutboxStats(TimePoint now) override;
  Result<int> EnqueueTestMails(TimePoint now) override;
  Result<std::vector<OutboxRow>> ListOutbox(std::optional<ChildId> child) override;
  Result<std::vector<SendLogEntry>> SendLog(std::int64_t outbox_id) override;

  Status AppendAudit(const Actor& who, std::string_view action, std::string_view detail) override;
  Result<std::vector<AuditEntry>> ListAudit() override;
  Status VerifyAuditChain() override;

 private:
  class Txn;
  SqliteStore(SqliteOptions options, std::unique_ptr<Db> writer, std::unique_ptr<Db> reader);
  Status Migrate();
  // Runs `fn` in one write transaction on the writer; commits when it returns ok.
  template <typename Fn>
  auto Write(Fn&& fn) -> decltype(fn(std::declval<Db&>()));

  const SqliteOptions options_;
  std::mutex write_mu_;
  std::unique_ptr<Db> writer_;  // guarded by write_mu_
  std::mutex read_mu_;
  std::unique_ptr<Db> reader_;  // guarded by read_mu_
};

}  // namespace anshin::store
