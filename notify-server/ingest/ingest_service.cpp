#include "notify-server/ingest/ingest_service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <string>
#include <utility>

#include "notify-server/ingest/agent_identity.hpp"
#include "notify-server/ingest/apply_tap.hpp"
#include "notify-server/ingest/skew_samples.hpp"

namespace anshin::ingest {
namespace {

// The names of the fields in which a re-sent tap differs from the one stored under its seq
// ("card, at"); empty for an identical tap (an idempotent retry).
std::string DifferingFields(const store::TapRecord& stored, const wire::Tap& sent) {
  std::string out;
  auto note = [&out](bool differs, const char* field) {
    if (!differs) return;
    if (!out.empty()) out += ", ";
    out += field;
  };
  note(stored.card != sent.card, "card");
  note(stored.tapped_at != sent.at, "at");
  note(stored.reader != sent.reader, "reader");
  note(stored.direction != sent.direction, "direction");
  return out;
}

// A failure of the store is the server's, never the agent's: whatever code the store gave it
// (a constraint is InvalidArgument there), the agent hears "internal" (500) or, when the
// store is busy or the disk failing, "unavailable" (503, retry). The text, which may quote
// SQL, stays in the log (the HTTP layer logs it under an error id).
Status StoreFailure(const Status& s) {
  if (s.ok() || s.code() == Status::Code::kUnavailable) return s;
  return Status::Internal("store: " + s.ToString());
}
template <typename T>
Result<T> StoreFailure(Result<T> r) {
  if (r.ok()) return r;
  return StoreFailure(r.status());
}

// Stores a tap whose time cannot be true as sent, unjudged: no day state, no alert, no mail.
// The card's child is recorded so staff can find the tap.
Status SetAside(store::WriteTxn& txn, const TapContext& ctx, const wire::Tap& tap) {
  ANSHIN_ASSIGN_OR_RETURN(std::optional<store::Card> card, txn.cards().Find(tap.card));
  store::TapRecord rec = TapRecordAsSent(ctx, tap);  // no correction is believed
  rec.reason = Reason::kImpossibleTime;
  if (card) rec.child = card->child;
  return txn.attendance().InsertTap(rec);
}

}  // namespace

IngestService::IngestService(store::Store& store, IngestOptions options)
    : store_(store), options_(std::move(options)) {
  writer_ = std::thread([this] { WriterLoop(); });
}

IngestService::~IngestService() { Shutdown(); }

void IngestService::Shutdown() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
}

void IngestService::SetOutboxListener(std::function<void()> listener) {
  std::lock_guard lock(mu_);
  outbox_listener_ = std::move(listener);
}

void IngestService::IngestTaps(server::Peer peer, wire::TapBatch batch, TimePoint received_at,
                               std::function<void(Result<wire::TapAck>)> done) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      done(Status::Unavailable("the server is shutting down"));
      return;
    }
    if (queue_.size() >= options_.max_queued_batches) {
      done(Status::ResourceExhausted("ingest queue full; retry later"));
      return;
    }
    queue_.push_back(Job{std::move(peer), std::move(batch), received_at, std::move(done)});
  }
  cv_.notify_one();
}

void IngestService::WriterLoop() {
  std::vector<Job> jobs;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      const std::size_t n = std::min(queue_.size(), options_.max_batches_per_commit);
      jobs.clear();
      for (std::size_t i = 0; i < n; ++i) {
        jobs.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    RunGroup(jobs);
  }
}

void IngestService::RunGroup(std::vector<Job>& jobs) {
  std::vector<Result<wire::TapAck>> results;
  std::vector<JobStats> stats(jobs.size());
  results.reserve(jobs.size());
  facilities_.clear();
  Status group = [&]() -> Status {
    ANSHIN_ASSIGN_OR_RETURN(std::unique_ptr<store::WriteTxn> txn, store_.BeginWrite());
    ANSHIN_ASSIGN_OR_RETURN(std::uint64_t version, txn->cards().AllowlistVersion());
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      ANSHIN_RETURN_IF_ERROR(txn->Savepoint());
      Result<wire::TapAck> r = ProcessJob(*txn, jobs[i], version, stats[i]);
      if (r.ok()) {
        ANSHIN_RETURN_IF_ERROR(txn->ReleaseSavepoint());
      } else {
        ANSHIN_RETURN_IF_ERROR(txn->RollbackSavepoint());
        const bool seq_conflict = stats[i].seq_conflict;
        stats[i] = JobStats{};
        stats[i].seq_conflict = seq_conflict;
      }
      results.push_back(std::move(r));
    }
    return txn->Commit();
  }();

  std::function<void()> listener;
  std::uint64_t outbox_rows = 0;
  if (group.ok()) {
    Account(jobs, results, stats);
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      if (results[i].ok()) outbox_rows += stats[i].outbox_rows;
    }
    std::lock_guard lock(mu_);
    listener = outbox_listener_;
  } else {
    metrics_.commit_failures.fetch_add(1, std::memory_order_relaxed);
    metrics_.batches_refused.fetch_add(jobs.size(), std::memory_order_relaxed);
    // The store's text may name tables and SQL: it goes to the log, not to the agents.
    spdlog::error("ingest: group commit of {} upload(s) failed: {}", jobs.size(), group.ToString());
  }
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    if (!group.ok()) {
      jobs[i].done(Status::Unavailable("the store could not commit; retry later"));
    } else {
      jobs[i].done(std::move(results[i]));
    }
  }
  jobs.clear();
  if (outbox_rows > 0 && listener) listener();
}

void IngestService::Account(const std::vector<Job>& jobs,
                            const std::vector<Result<wire::TapAck>>& results,
                            const std::vector<JobStats>& stats) {
  metrics_.commits.fetch_add(1, std::memory_order_relaxed);
  metrics_.commit_batches.Observe(jobs.size());
  std::uint64_t outbox_rows = 0;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const JobStats& s = stats[i];
    if (!results[i].ok()) {
      metrics_.batches_refused.fetch_add(1, std::memory_order_relaxed);
      if (s.seq_conflict) metrics_.seq_conflicts.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    metrics_.batches_ok.fetch_add(1, std::memory_order_relaxed);
    metrics_.upload_taps.Observe(jobs[i].batch.taps.size());
    metrics_.taps_received.fetch_add(s.taps, std::memory_order_relaxed);
    metrics_.taps_resent.fetch_add(s.resent, std::memory_order_relaxed);
    outbox_rows += s.outbox_rows;
    for (std::size_t r = 0; r < s.by_reason.size(); ++r) {
      if (s.by_reason[r] != 0)
        metrics_.by_reason[r].fetch_add(s.by_reason[r], std::memory_order_relaxed);
    }
    std::lock_guard lock(seen_mu_);
    agents_seen_.insert(jobs[i].peer.agent_name);
  }
  metrics_.outbox_rows.fetch_add(outbox_rows, std::memory_order_relaxed);
}

Result<wire::TapAck> IngestService::ProcessJob(store::WriteTxn& txn, const Job& job,
                                               std::uint64_t allowlist_version, JobStats& stats) {
  const server::Peer& peer = job.peer;
  const wire::TapBatch& batch = job.batch;
  ANSHIN_ASSIGN_OR_RETURN(std::optional<store::Agent> agent,
                          StoreFailure(txn.agents().Find(peer.agent_name)));
  ANSHIN_RETURN_IF_ERROR(CheckAgentIdentity(agent, peer));
  if (batch.agent != peer.agent_name) {
    // One answer whether or not the named agent exists, and wherever it is enrolled.
    return Status::PermissionDenied("agent: the body names another agent than the certificate");
  }
  ANSHIN_ASSIGN_OR_RETURN(const FacilityContext* fc, Facility(txn, agent->facility));

  TapContext ctx;
  ctx.agent = agent->id;
  ctx.facility = agent->facility;
  ctx.rules = &fc->rules;
  // Agent clock minus server clock; network delay makes it read slightly low.
  ctx.skew = batch.sent_at - job.received_at;
  ctx.received_at = job.received_at;
  ctx.source = "agent=" + agent->name;
  // With the agent's clock days off, no tap time of the upload is believed.
  const std::optional<std::string> skew_problem = SkewProblem(ctx.skew, options_.tap_time);
  std::vector<wire::RejectedTap> rejected;
  std::uint64_t previous_seq = 0;
  for (std::size_t i = 0; i < batch.taps.size(); ++i) {
    const wire::Tap& tap = batch.taps[i];
    const std::string at_field = "taps[" + std::to_string(i) + "].at";
    if (tap.seq <= previous_seq) {
      return Status::InvalidArgument("taps[" + std::to_string(i) + "].seq: not ascending");
    }
    previous_seq = tap.seq;
    ++stats.taps;
    // Every seq up to acked_through is stored. Without a recorded gap nothing after it is
    // (every commit updates both), so a seq above it needs no lookup: that fast path is the
    // common case. With a gap, taps after the gap are stored too, so every seq is looked up.
    if (tap.seq <= agent->acked_through || agent->gap) {
      ANSHIN_ASSIGN_OR_RETURN(std::optional<store::TapRecord> stored,
                              StoreFailure(txn.attendance().FindTap(agent->id, tap.seq)));
      if (stored) {
        if (std::string differs = DifferingFields(*stored, tap); !differs.empty()) {
          // Not a retry: the agent's queue was reset (reinstall, restored backup). Refusing
          // the whole batch keeps it in the agent's queue instead of ACKing it away unjudged.
          stats.seq_conflict = true;
          spdlog::warn("agent {}: seq {} reused for another tap ({} differ); batch refused",
                       agent->name, tap.seq, differs);
          return Status::Conflict("taps[" + std::to_string(i) +
                                  "].seq: " + std::to_string(tap.seq) +
                                  " was already used by this agent for another tap; the agent's "
                                  "queue was reset — enrol it under a new name or contact "
                                  "the operator");
        }
        ++stats.resent;
        if (stored->reason == Reason::kImpossibleTime) {
          // The first ACK may have been lost: the agent hears of it again.
          rejected.push_back({tap.seq, at_field,
                              at_field + ": set aside unjudged at an earlier upload: its time "
                                         "could not be true; not mailed"});
        }
        continue;
      }
    }
    std::optional<std::string> problem =
        skew_problem
            ? skew_problem
            : TapTimeProblem(at_field, tap.at, ctx.skew, ctx.received_at, options_.tap_time);
    if (problem) {
      ANSHIN_RETURN_IF_ERROR(StoreFailure(SetAside(txn, ctx, tap)));
      ++stats.by_reason[kReasonNames.Index(Reason::kImpossibleTime)];
      rejected.push_back({tap.seq, skew_problem ? "sent_at" : at_field, std::move(*problem)});
      continue;
    }
    Result<AppliedTap> applied = ApplyTap(txn, ctx, tap);
    if (!applied.ok()) {
      return StoreFailure(applied.status().WithContext("seq " + std::to_string(tap.seq)));
    }
    ++stats.by_reason[kReasonNames.Index(applied->reason)];
    stats.outbox_rows += applied->outbox_rows;
  }

  ANSHIN_ASSIGN_OR_RETURN(auto through, StoreFailure(txn.attendance().ContiguousThrough(
                                            agent->id, agent->acked_through)));
  store::AgentContact contact;
  contact.at = job.received_at;
  contact.skew_ms = ctx.skew.count();
  // The stored report is always this upload's (none when it carried none), so its figures are
  // as of last_contact: a report from before a silence is never taken for a current one.
  contact.health_json = batch.health ? wire::Serialize(*batch.health) : std::string();
  contact.acked_through = through.first;
  contact.gap = through.second;
  ANSHIN_RETURN_IF_ERROR(StoreFailure(txn.agents().RecordContact(agent->id, contact)));
  const store::SkewSample sample{job.received_at, contact.skew_ms};
  ANSHIN_ASSIGN_OR_RETURN(std::optional<store::SkewSample> last_sample,
                          StoreFailure(txn.agents().LastSkewSample(agent->id)));
  if (SkewSampleDue(last_sample, sample)) {
    ANSHIN_RETURN_IF_ERROR(StoreFailure(txn.agents().RecordSkewSample(agent->id, sample)));
  }

  if (!rejected.empty()) {
    // Times and seqs only: the reasons hold no personal data.
    spdlog::warn("agent {}: {} tap(s) set aside unjudged, seq {}..{}: {}", agent->name,
                 rejected.size(), rejected.front().seq, rejected.back().seq,
                 rejected.front().error);
  }
  wire::TapAck ack;
  ack.rejected = std::move(rejected);
  ack.acked_through = through.first;
  ack.allowlist_version = allowlist_version;
  ack.server_time = options_.clock->Now();
  ack.gap = through.second;
  return ack;
}

Result<const IngestService::FacilityContext*> IngestService::Facility(store::WriteTxn& txn,
                                                                      FacilityId id) {
  auto it = facilities_.find(id.value);
  if (it != facilities_.end()) return &it->second;
  ANSHIN_ASSIGN_OR_RETURN(store::Facility f, StoreFailure(txn.facilities().Get(id)));
  FacilityContext fc;
  fc.rules = f.rules;
  Result<std::shared_ptr<const TimeZone>> zone = options_.zones(f.tz_name);
  if (!zone.ok()) {
    return Status::Unavailable("facility time zone " + f.tz_name + ": " + zone.status().message());
  }
  fc.rules.zone = *zone;
  fc.facility = std::move(f);
  return &facilities_.emplace(id.value, std::move(fc)).first->second;
}

std::string IngestService::MetricsText() {
  std::size_t queued = 0, seen = 0;
  {
    std::lock_guard lock(mu_);
    queued = queue_.size();
  }
  {
    std::lock_guard lock(seen_mu_);
    seen = agents_seen_.size();
  }
  return metrics_.Text(queued, seen);
}

}  // namespace anshin::ingest
