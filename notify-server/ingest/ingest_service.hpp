// IngestService: POST /v1/taps behind the network layer, with group commit.
//
// Every IngestTaps call is queued; one writer thread takes everything queued and runs it in ONE
// store transaction: per call it authenticates the agent, measures the agent's clock skew, and
// for each new (agent, seq) runs ApplyTap (judge, then write tap, day state, alerts and outbox
// rows). Each call runs under a savepoint, so a refused call undoes only its own work.
// Callbacks run after COMMIT: every ACK follows a durable commit; if the commit fails every
// call of the group gets Unavailable (503: the agents keep their taps and retry).
//
// Identity rules (DESIGN.md §5; the wire has no facility field, so a batch "claims" a facility
// only through its "agent" member):
//   - certificate CN unknown, or its SHA-256 differs from the enrolled one → Unauthenticated;
//   - the agent is disabled or revoked → PermissionDenied;
//   - the body's "agent" is not the certificate's agent → PermissionDenied, with the same
//     answer whether or not that name exists (an agent must not learn other agents' names).
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
// Tap times: a tap whose time cannot be true (tap_time.hpp: the agent's clock days off, a tap
// after the upload arrived or older than the agent could hold) is stored as sent with reason
// impossible_time, never judged or mailed, acknowledged, and named in the ACK's `rejected`
// (again on every retry), so the agent's other taps go on as usual.
//
// Thread-safety: all public methods may be called from any thread. The store and the zone
// loader must outlive the service; the destructor finishes queued work first.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/time.hpp"
#include "notify-server/ingest/ingest_metrics.hpp"
#include "notify-server/ingest/tap_time.hpp"
#include "notify-server/services.hpp"
#include "services/facilities.hpp"
#include "store/store.hpp"

namespace anshin::ingest {

struct IngestOptions {
  std::shared_ptr<const Clock> clock = std::make_shared<SystemClock>();
  services::ZoneLoader zones;  // required
  std::size_t max_batches_per_commit = 512;
  std::size_t max_queued_batches = 8192;  // beyond this IngestTaps answers ResourceExhausted
  TapTimeBounds tap_time;
};

class IngestService {
 public:
  IngestService(store::Store& store, IngestOptions options);
  ~IngestService();
  IngestService(const IngestService&) = delete;
  IngestService& operator=(const IngestService&) = delete;

  void IngestTaps(server::Peer peer, wire::TapBatch batch, TimePoint received_at,
                  std::function<void(Result<wire::TapAck>)> done);

  // Called (on the writer thread, after COMMIT) whenever a commit queued outbox rows, so the
  // mailer can wake up. Set it before traffic starts.
  void SetOutboxListener(std::function<void()> listener);

  // Finishes queued work and stops the writer; later calls answer Unavailable. Idempotent.
  void Shutdown();

  // Prometheus text of the ingest figures. Cheap, no store access.
  std::string MetricsText();

 private:
  struct Job {
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
    std::array<std::uint64_t, kReasonNames.size()> by_reason{};
    bool seq_conflict = false;  // refused: a stored seq came with another tap
  };
  struct FacilityContext {
    store::Facility facility;
    FacilityRules rules;  // with the loaded zone
  };

  void WriterLoop();
  void RunGroup(std::vector<Job>& jobs);
  void Account(const std::vector<Job>& jobs, const std::vector<Result<wire::TapAck>>& results,
               const std::vector<JobStats>& stats);
  Result<wire::TapAck> ProcessJob(store::WriteTxn& txn, const Job& job,
                                  std::uint64_t allowlist_version, JobStats& stats);
  Result<const FacilityContext*> Facility(store::WriteTxn& txn, FacilityId id);

  store::Store& store_;
  const IngestOptions options_;
  IngestMetrics metrics_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;                  // guarded by mu_
  bool stopping_ = false;                  // guarded by mu_
  std::function<void()> outbox_listener_;  // guarded by mu_; set before traffic
  std::thread writer_;

  // Writer-thread state, cleared at the start of each group so admin changes apply.
  std::unordered_map<std::int64_t, FacilityContext> facilities_;

  std::mutex seen_mu_;
  std::unordered_set<std::string> agents_seen_;  // guarded by seen_mu_
};

}  // namespace anshin::ingest
