// SqliteServices: the server's logic behind the network layer (server::Services) on a Store.
//
// Ingest: every IngestTaps call is queued; one writer thread takes everything queued and runs
// it in ONE store transaction (group commit): per call it authenticates the agent, measures the
// agent's clock skew, and for each new (agent, seq) judges the tap with the attendance engine
// and writes tap, day state, alerts and outbox rows. Each call runs under a savepoint, so a
// refused call undoes only its own work. Callbacks run after COMMIT: every ACK follows a
// durable commit; if the commit fails every call of the group gets Unavailable.
//
// Identity rules (DESIGN.md §5; the wire has no facility field, so a batch "claims" a facility
// only through its "agent" member):
//   - certificate CN unknown, or its SHA-256 differs from the enrolled one → Unauthenticated;
//   - the agent is disabled or revoked → PermissionDenied;
//   - the body's "agent" names an agent of another facility → Conflict (409);
//   - the body's "agent" names anything else that is not the certificate's agent →
//   PermissionDenied.
// A tap of a card whose child belongs to another facility is judged for the agent's facility
// (children visit other halls).
//
// Idempotency: (agent, seq) is the key. A tap whose seq is already stored is compared with the
// stored one (card, tap time, reader, direction): identical → a retry, acknowledged without a
// second decision or outbox row; different → the agent's queue was reset (reinstall, restored
// backup) and the whole call is refused with Conflict naming `taps[i].seq`, so nothing of it
// commits and the agent keeps its queue. Only seqs above acked_through of an agent without a
// recorded gap skip the lookup: nothing is stored there.
//
// Allowlist requests and metrics run on a small pool of reader threads. Thread-safety: all
// public methods may be called from any thread. The destructor finishes queued work first.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/engine.hpp"
#include "common/time.hpp"
#include "notify-server/services.hpp"
#include "notify-server/store/sqlite_store.hpp"
#include "notify-server/store/store.hpp"

namespace anshin::ingest {

struct IngestOptions {
  std::filesystem::path db_path;
  int workers = 2;  // reader threads for allowlist requests; ingest has one writer thread
  store::SyncMode synchronous = store::SyncMode::kFull;
  std::shared_ptr<const Clock> clock = std::make_shared<SystemClock>();
  std::size_t max_batches_per_commit = 512;
  std::size_t max_queued_batches = 8192;  // beyond this IngestTaps answers ResourceExhausted
  // Loads a facility's zone by name; defaults to sys::LoadTimeZone (the system's zone data).
  std::function<Result<std::shared_ptr<const TimeZone>>(const std::string&)> load_zone;
};

class SqliteServices final : public server::Services {
 public:
  // Opens (and migrates) the SQLite store at options.db_path.
  static Result<std::unique_ptr<SqliteServices>> Open(const IngestOptions& options);
  // On any Store (tests, later PostgreSQL).
  SqliteServices(std::shared_ptr<store::Store> store, const IngestOptions& options);
  ~SqliteServices() override;

  void IngestTaps(server::Peer peer, wire::TapBatch batch, TimePoint received_at,
                  std::function<void(Result<wire::TapAck>)> done) override;
  void Allowlist(server::Peer peer, std::uint64_t since,
                 std::function<void(Result<wire::AllowlistDelta>)> done) override;
  std::string MetricsText() override;

  // Rule 8: raises "no departure" alerts for open visits whose closing check is due (today's
  // and yesterday's facility-local dates). Blocking (one store transaction): call it from a
  // worker thread, e.g. from a timer every minute. Returns the alerts raised now.
  Result<std::vector<Alert>> RunClosingChecks(TimePoint now);

  // Called (on the writer thread, after COMMIT) whenever a commit queued outbox rows, so the
  // mailer can wake up. Set it before traffic starts.
  void SetOutboxListener(std::function<void()> listener);

  // The store, shared with the mailer.
  const std::shared_ptr<store::Store>& store() const { return store_; }

  // Finishes queued work and stops the threads; later calls answer Unavailable. Idempotent.
  void Shutdown();

 private:
  struct IngestJob {
    server::Peer peer;
    wire::TapBatch batch;
    TimePoint received_at;
    std::function<void(Result<wire::TapAck>)> done;
  };
  // Counters of one call, applied to the metrics only after its commit.
  struct JobStats {
    std::uint64_t taps = 0;
    std::uint64_t resent = 0;
    std::uint64_t outbox_rows = 0;
    std::array<std::uint64_t, 10> by_reason{};
    bool seq_conflict = false;  // refused: a stored seq came with another tap
  };
  struct FacilityContext {
    store::Facility facility;
    FacilityRules rules;  // with the loaded zone
  };

  void WriterLoop();
  void ReaderLoop();
  void RunGroup(std::vector<IngestJob>& jobs);
  Result<wire::TapAck> ProcessJob(store::WriteTxn& txn, const IngestJob& job,
                                  std::uint64_t allowlist_version, JobStats& stats);
  Status JudgeAndWrite(store::WriteTxn& txn, const store::Agent& agent, const FacilityContext& fc,
                       const wire::Tap& tap, Millis skew, TimePoint received_at, JobStats& stats);
  Result<const FacilityContext*> Facility(store::WriteTxn& txn, FacilityId id);
  Result<std::shared_ptr<const TimeZone>> Zone(const std::string& name);
  void Post(std::function<void()> task);

  const std::shared_ptr<store::Store> store_;
  const IngestOptions options_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<IngestJob> queue_;              // guarded by mu_
  std::deque<std::function<void()>> tasks_;  // guarded by mu_ (reader pool)
  std::condition_variable tasks_cv_;
  bool stopping_ = false;                  // guarded by mu_
  std::function<void()> outbox_listener_;  // set before traffic
  std::thread writer_;
  std::vector<std::thread> readers_;

  // Writer-thread state (cleared at the start of each group so admin changes apply).
  std::unordered_map<std::int64_t, FacilityContext> facilities_;

  std::mutex zone_mu_;
  std::map<std::string, std::shared_ptr<const TimeZone>> zones_;  // guarded by zone_mu_

  // Metrics.
  std::atomic<std::uint64_t> taps_received_{0}, taps_resent_{0}, batches_ok_{0},
      batches_refused_{0}, seq_conflicts_{0}, commits_{0}, commit_failures_{0}, outbox_rows_{0},
      closing_alerts_{0};
  std::array<std::atomic<std::uint64_t>, 10> by_reason_{};
  // A Prometheus histogram of counts with fixed upper bounds; lock-free.
  class CountHistogram {
   public:
    explicit CountHistogram(std::array<std::uint64_t, 10> bounds) : bounds_(bounds) {}
    void Observe(std::uint64_t v);
    void AppendText(std::string& out, const char* name, const char* help) const;

   private:
    const std::array<std::uint64_t, 10> bounds_;
    std::array<std::atomic<std::uint64_t>, 10> buckets_{};  // cumulative: v <= bounds_[i]
    std::atomic<std::uint64_t> count_{0}, sum_{0};
  };
  CountHistogram commit_batches_{{1, 2, 4, 8, 16, 32, 64, 128, 256, 512}};
  CountHistogram upload_taps_{{1, 2, 5, 10, 20, 50, 100, 500, 1000, 5000}};
  std::mutex seen_mu_;
  std::unordered_set<std::string> agents_seen_;  // guarded by seen_mu_
};

// The factory the server's main() uses.
Result<std::unique_ptr<server::Services>> OpenSqliteServices(const IngestOptions& options);

}  // namespace anshin::ingest
