#include "notify-server/ingest/sqlite_services.hpp"

#include "notify-server/metrics_text.hpp"

#include <spdlog/spdlog.h>
#include <algorithm>
#include <string>
#include <utility>

#include "common/sys/sys.hpp"

namespace anshin::ingest {
namespace {

constexpr std::size_t kReasonCount = 10;
constexpr Reason kAllReasons[kReasonCount] = {Reason::kArrival,           Reason::kDeparture,
                                              Reason::kInferredDeparture, Reason::kCorrection,
                                              Reason::kBackfilledArrival, Reason::kDuplicate,
                                              Reason::kOutOfOrder,        Reason::kUnknownCard,
                                              Reason::kLostCard,          Reason::kRetiredCard};

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

Status CheckAgentIdentity(const std::optional<store::Agent>& agent, const server::Peer& peer) {
  if (!agent) return Status::Unauthenticated("agent " + peer.agent_name + " is not enrolled");
  if (agent->cert_sha256 != peer.cert_sha256) {
    return Status::Unauthenticated("agent " + peer.agent_name +
                                   ": certificate is not the enrolled one");
  }
  if (agent->status != store::AgentStatus::kActive) {
    return Status::PermissionDenied("agent " + peer.agent_name + " is " +
                                    std::string(store::AgentStatusName(agent->status)));
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<SqliteServices>> SqliteServices::Open(const IngestOptions& options) {
  store::SqliteOptions so;
  so.path = options.db_path;
  so.synchronous = options.synchronous;
  ANSHIN_ASSIGN_OR_RETURN(std::unique_ptr<store::SqliteStore> s, store::SqliteStore::Open(so));
  return std::make_unique<SqliteServices>(std::shared_ptr<store::Store>(std::move(s)), options);
}

Result<std::unique_ptr<server::Services>> OpenSqliteServices(const IngestOptions& options) {
  ANSHIN_ASSIGN_OR_RETURN(std::unique_ptr<SqliteServices> s, SqliteServices::Open(options));
  return std::unique_ptr<server::Services>(std::move(s));
}

SqliteServices::SqliteServices(std::shared_ptr<store::Store> store, const IngestOptions& options)
    : store_(std::move(store)), options_(options) {
  writer_ = std::thread([this] { WriterLoop(); });
  for (int i = 0; i < std::max(1, options_.workers); ++i)
    readers_.emplace_back([this] { ReaderLoop(); });
}

SqliteServices::~SqliteServices() { Shutdown(); }

void SqliteServices::Shutdown() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !writer_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  tasks_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  for (auto& t : readers_) {
    if (t.joinable()) t.join();
  }
}

void SqliteServices::SetOutboxListener(std::function<void()> listener) {
  std::lock_guard lock(mu_);
  outbox_listener_ = std::move(listener);
}

// ---- ingest --------------------------------------------------------------------------------

void SqliteServices::IngestTaps(server::Peer peer, wire::TapBatch batch, TimePoint received_at,
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
    queue_.push_back(IngestJob{std::move(peer), std::move(batch), received_at, std::move(done)});
  }
  cv_.notify_one();
}

void SqliteServices::WriterLoop() {
  std::vector<IngestJob> jobs;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      std::size_t n = std::min(queue_.size(), options_.max_batches_per_commit);
      jobs.clear();
      for (std::size_t i = 0; i < n; ++i) {
        jobs.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    RunGroup(jobs);
  }
}

void SqliteServices::RunGroup(std::vector<IngestJob>& jobs) {
  std::vector<Result<wire::TapAck>> results;
  std::vector<JobStats> stats(jobs.size());
  results.reserve(jobs.size());
  facilities_.clear();
  Status group = [&]() -> Status {
    ANSHIN_ASSIGN_OR_RETURN(std::unique_ptr<store::WriteTxn> txn, store_->BeginWrite());
    ANSHIN_ASSIGN_OR_RETURN(std::uint64_t version, txn->AllowlistVersion());
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
    commits_.fetch_add(1, std::memory_order_relaxed);
    commit_batches_.Observe(jobs.size());
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      const JobStats& s = stats[i];
      if (!results[i].ok()) {
        batches_refused_.fetch_add(1, std::memory_order_relaxed);
        if (s.seq_conflict) seq_conflicts_.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      batches_ok_.fetch_add(1, std::memory_order_relaxed);
      upload_taps_.Observe(jobs[i].batch.taps.size());
      taps_received_.fetch_add(s.taps, std::memory_order_relaxed);
      taps_resent_.fetch_add(s.resent, std::memory_order_relaxed);
      outbox_rows += s.outbox_rows;
      for (std::size_t r = 0; r < kReasonCount; ++r) {
        if (s.by_reason[r] != 0) by_reason_[r].fetch_add(s.by_reason[r], std::memory_order_relaxed);
      }
      std::lock_guard lock(seen_mu_);
      agents_seen_.insert(jobs[i].peer.agent_name);
    }
    outbox_rows_.fetch_add(outbox_rows, std::memory_order_relaxed);
    std::lock_guard lock(mu_);
    listener = outbox_listener_;
  } else {
    commit_failures_.fetch_add(1, std::memory_order_relaxed);
    batches_refused_.fetch_add(jobs.size(), std::memory_order_relaxed);
  }
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    if (!group.ok()) {
      jobs[i].done(Status::Unavailable("store: " + group.message()));
    } else {
      jobs[i].done(std::move(results[i]));
    }
  }
  jobs.clear();
  if (outbox_rows > 0 && listener) listener();
}

Result<wire::TapAck> SqliteServices::ProcessJob(store::WriteTxn& txn, const IngestJob& job,
                                                std::uint64_t allowlist_version, JobStats& stats) {
  const server::Peer& peer = job.peer;
  const wire::TapBatch& batch = job.batch;
  ANSHIN_ASSIGN_OR_RETURN(std::optional<store::Agent> agent, txn.FindAgent(peer.agent_name));
  ANSHIN_RETURN_IF_ERROR(CheckAgentIdentity(agent, peer));
  if (batch.agent != peer.agent_name) {
    ANSHIN_ASSIGN_OR_RETURN(std::optional<store::Agent> named, txn.FindAgent(batch.agent));
    if (named && named->facility != agent->facility) {
      return Status::Conflict("agent: \"" + batch.agent +
                              "\" belongs to another facility than the certificate's agent");
    }
    return Status::PermissionDenied("agent: \"" + batch.agent +
                                    "\" is not the certificate's agent");
  }
  ANSHIN_ASSIGN_OR_RETURN(const FacilityContext* fc, Facility(txn, agent->facility));

  // Agent clock minus server clock; network delay makes it read slightly low.
  const Millis skew = batch.sent_at - job.received_at;
  std::uint64_t previous_seq = 0;
  for (std::size_t i = 0; i < batch.taps.size(); ++i) {
    const wire::Tap& tap = batch.taps[i];
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
                              txn.FindTap(agent->id, tap.seq));
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
        continue;
      }
    }
    ANSHIN_RETURN_IF_ERROR(JudgeAndWrite(txn, *agent, *fc, tap, skew, job.received_at, stats)
                               .WithContext("seq " + std::to_string(tap.seq)));
  }

  ANSHIN_ASSIGN_OR_RETURN(auto through, txn.ContiguousThrough(agent->id, agent->acked_through));
  std::optional<std::string> health;
  if (batch.health) health = wire::Serialize(*batch.health);
  ANSHIN_RETURN_IF_ERROR(txn.UpdateAgentContact(agent->id, job.received_at, skew.count(), health,
                                                through.first, through.second));

  wire::TapAck ack;
  ack.acked_through = through.first;
  ack.allowlist_version = allowlist_version;
  ack.server_time = options_.clock->Now();
  ack.gap = through.second;
  return ack;
}

Status SqliteServices::JudgeAndWrite(store::WriteTxn& txn, const store::Agent& agent,
                                     const FacilityContext& fc, const wire::Tap& tap, Millis skew,
                                     TimePoint received_at, JobStats& stats) {
  TapEvent ev;
  ev.card = tap.card;
  ev.facility = agent.facility;
  ev.reader = tap.reader;
  ev.direction = tap.direction;
  ev.tapped_at = tap.at;
  ev.agent_skew = skew;
  ev.received_at = received_at;

  ANSHIN_ASSIGN_OR_RETURN(std::optional<CardInfo> card, txn.FindCard(tap.card));
  ChildSchedule schedule;
  ChildDay day;
  day.date = JudgedDay(fc.rules, ev);
  if (card) {
    ANSHIN_ASSIGN_OR_RETURN(schedule, txn.GetSchedule(card->child));
    ANSHIN_ASSIGN_OR_RETURN(day, txn.LoadChildDay(card->child, agent.facility, day.date));
  }
  Judgement j = Judge(fc.rules, ev, card, schedule, day);
  const Decision& d = j.decision;

  store::TapRecord rec;
  rec.agent = agent.id;
  rec.seq = tap.seq;
  rec.card = tap.card;
  rec.facility = agent.facility;
  rec.reader = tap.reader;
  rec.direction = tap.direction;
  rec.tapped_at = tap.at;
  rec.corrected_at = d.tap_time;
  rec.received_at = received_at;
  rec.reason = d.reason;
  rec.child = card ? std::optional<ChildId>(card->child) : std::nullopt;
  rec.late = d.late;
  ANSHIN_RETURN_IF_ERROR(txn.InsertTap(rec));
  ++stats.by_reason[static_cast<std::size_t>(d.reason)];

  if (card && !(j.day == day))
    ANSHIN_RETURN_IF_ERROR(txn.SaveChildDay(card->child, agent.facility, j.day));
  for (const Alert& a : d.alerts) {
    store::AlertRecord ar;
    ar.kind = a.kind;
    ar.facility = a.facility;
    ar.child = a.child;
    ar.at = a.at;
    ar.detail =
        "agent=" + agent.name + " seq=" + std::to_string(tap.seq) + " token=" + tap.card.hex();
    ANSHIN_RETURN_IF_ERROR(txn.InsertAlert(ar).status());
  }
  if (d.notice) {
    const Notice& n = *d.notice;
    ANSHIN_ASSIGN_OR_RETURN(std::vector<store::NoticeTarget> targets,
                            txn.NoticeTargets(n.child, n.kind));
    for (const store::NoticeTarget& t : targets) {
      store::NewOutboxRow row;
      row.kind = store::OutboxKindOf(n.kind);
      row.guardian = t.guardian;
      row.child = n.child;
      row.facility = n.facility;
      row.tap_at = n.at;
      row.arrival_at = n.arrival_at;
      row.late = n.late;
      row.created_at = received_at;
      ANSHIN_RETURN_IF_ERROR(txn.InsertOutbox(row).status());
      ++stats.outbox_rows;
    }
  }
  return Status::Ok();
}

Result<const SqliteServices::FacilityContext*> SqliteServices::Facility(store::WriteTxn& txn,
                                                                        FacilityId id) {
  auto it = facilities_.find(id.value);
  if (it != facilities_.end()) return &it->second;
  ANSHIN_ASSIGN_OR_RETURN(store::Facility f, txn.GetFacility(id));
  FacilityContext fc;
  fc.rules = f.rules;
  ANSHIN_ASSIGN_OR_RETURN(fc.rules.zone, Zone(f.tz_name));
  fc.facility = std::move(f);
  return &facilities_.emplace(id.value, std::move(fc)).first->second;
}

Result<std::shared_ptr<const TimeZone>> SqliteServices::Zone(const std::string& name) {
  std::lock_guard lock(zone_mu_);
  auto it = zones_.find(name);
  if (it != zones_.end()) return it->second;
  Result<std::shared_ptr<const TimeZone>> z =
      options_.load_zone ? options_.load_zone(name) : sys::LoadTimeZone(name);
  if (!z.ok())
    return Status::Unavailable("facility time zone " + name + ": " + z.status().message());
  zones_.emplace(name, *z);
  return *z;
}

// ---- closing checks ------------------------------------------------------------------------

Result<std::vector<Alert>> SqliteServices::RunClosingChecks(TimePoint now) {
  std::vector<Alert> raised;
  {
    ANSHIN_ASSIGN_OR_RETURN(std::unique_ptr<store::WriteTxn> txn, store_->BeginWrite());
    ANSHIN_ASSIGN_OR_RETURN(std::vector<store::Facility> facilities, txn->ListFacilities());
    for (const store::Facility& f : facilities) {
      FacilityRules rules = f.rules;
      ANSHIN_ASSIGN_OR_RETURN(rules.zone, Zone(f.tz_name));
      const LocalDate today = rules.zone->DateOf(now);
      const LocalDate yesterday = rules.zone->DateOf(now - std::chrono::hours(24));
      for (const LocalDate& date : {yesterday, today}) {
        if (ClosingCheckDue(rules, date) > now) continue;
        ANSHIN_ASSIGN_OR_RETURN(std::vector<store::OpenDay> open, txn->OpenDays(f.id, date));
        for (store::OpenDay& od : open) {
          std::vector<Alert> alerts = CheckClosing(rules, f.id, od.child, od.day, now);
          ANSHIN_RETURN_IF_ERROR(txn->SaveChildDay(od.child, f.id, od.day));
          for (const Alert& a : alerts) {
            store::AlertRecord ar;
            ar.kind = a.kind;
            ar.facility = a.facility;
            ar.child = a.child;
            ar.at = a.at;
            ar.detail = "date=" + date.ToString();
            ANSHIN_RETURN_IF_ERROR(txn->InsertAlert(ar).status());
            raised.push_back(a);
          }
        }
      }
    }
    ANSHIN_RETURN_IF_ERROR(txn->Commit());
  }
  closing_alerts_.fetch_add(raised.size(), std::memory_order_relaxed);
  return raised;
}

// ---- allowlist ---------------------------------------------------------------------------

void SqliteServices::Post(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    tasks_.push_back(std::move(task));
  }
  tasks_cv_.notify_one();
}

void SqliteServices::ReaderLoop() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mu_);
      tasks_cv_.wait(lock, [&] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

void SqliteServices::Allowlist(server::Peer peer, std::uint64_t since,
                               std::function<void(Result<wire::AllowlistDelta>)> done) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      done(Status::Unavailable("the server is shutting down"));
      return;
    }
  }
  Post([this, peer = std::move(peer), since, done = std::move(done)]() {
    Result<store::Agent> agent = store_->GetAgent(peer.agent_name);
    if (!agent.ok() && agent.status().code() != Status::Code::kNotFound) {
      done(agent.status());
      return;
    }
    std::optional<store::Agent> found;
    if (agent.ok()) found = std::move(agent).value();
    Status s = CheckAgentIdentity(found, peer);
    if (!s.ok()) {
      done(s);
      return;
    }
    done(store_->Allowlist(since));
  });
}

// ---- metrics -------------------------------------------------------------------------------

void SqliteServices::CountHistogram::Observe(std::uint64_t v) {
  for (std::size_t b = 0; b < bounds_.size(); ++b) {
    if (v <= bounds_[b]) buckets_[b].fetch_add(1, std::memory_order_relaxed);
  }
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

void SqliteServices::CountHistogram::AppendText(std::string& out, const char* name,
                                                const char* help) const {
  const std::string n = name;
  out += "# HELP " + n + ' ' + help + "\n# TYPE " + n + " histogram\n";
  for (std::size_t b = 0; b < bounds_.size(); ++b) {
    out += n + "_bucket{le=\"" + std::to_string(bounds_[b]) + "\"} " +
           std::to_string(buckets_[b].load()) + '\n';
  }
  const std::uint64_t count = count_.load();
  out += n + "_bucket{le=\"+Inf\"} " + std::to_string(count) + '\n';
  out += n + "_sum " + std::to_string(sum_.load()) + '\n';
  out += n + "_count " + std::to_string(count) + '\n';
}

std::string SqliteServices::MetricsText() {
  std::string out;
  server::PrometheusText text(out);
  text.Counter("anshin_taps_received_total", "Taps in committed uploads, re-sent ones included.",
               taps_received_.load());
  text.Counter("anshin_taps_resent_total",
               "Taps already stored under the same (agent, seq): acknowledged, not judged again.",
               taps_resent_.load());
  out +=
      "# HELP anshin_taps_judged_total Taps judged by the attendance engine, by decision reason.\n"
      "# TYPE anshin_taps_judged_total counter\n";
  for (std::size_t r = 0; r < kReasonCount; ++r) {
    out += "anshin_taps_judged_total{reason=\"" + std::string(ReasonName(kAllReasons[r])) + "\"} " +
           std::to_string(by_reason_[r].load()) + '\n';
  }
  text.Counter("anshin_ingest_batches_total", "Uploads committed and acknowledged.",
               batches_ok_.load());
  text.Counter("anshin_ingest_batches_refused_total",
               "Uploads refused (identity, conflict, store errors).", batches_refused_.load());
  text.Counter("anshin_ingest_seq_conflicts_total",
               "Uploads refused (409) because a seq already stored for the agent came with another "
               "tap: the agent's queue was reset.",
               seq_conflicts_.load());
  text.Counter("anshin_ingest_commits_total", "Group-commit transactions committed.",
               commits_.load());
  text.Counter("anshin_ingest_commit_failures_total", "Group-commit transactions that failed.",
               commit_failures_.load());
  text.Counter("anshin_outbox_queued_total", "Attendance mails queued by ingest.",
               outbox_rows_.load());
  text.Counter("anshin_closing_alerts_total", "No-departure alerts raised by closing checks.",
               closing_alerts_.load());

  commit_batches_.AppendText(out, "anshin_ingest_commit_batches",
                             "Uploads per group-commit transaction.");
  upload_taps_.AppendText(out, "anshin_ingest_upload_taps", "Taps per committed upload.");

  std::size_t queued = 0;
  {
    std::lock_guard lock(mu_);
    queued = queue_.size();
  }
  text.Header("anshin_ingest_queue_depth", "Uploads waiting for the next group commit.", "gauge");
  out += "anshin_ingest_queue_depth " + std::to_string(queued) + '\n';
  std::size_t seen = 0;
  {
    std::lock_guard lock(seen_mu_);
    seen = agents_seen_.size();
  }
  text.Header("anshin_agents_seen", "Distinct agents that uploaded since the server started.",
              "gauge");
  out += "anshin_agents_seen " + std::to_string(seen) + '\n';

  Result<store::OutboxStats> st = store_->GetOutboxStats(options_.clock->Now());
  if (st.ok()) {
    text.Header("anshin_outbox_depth", "Mails queued, sending or waiting to retry.", "gauge");
    out += "anshin_outbox_depth " + std::to_string(st->depth) + '\n';
    text.Header("anshin_outbox_oldest_age_seconds",
                "Age of the oldest mail not yet sent or failed.", "gauge");
    out += "anshin_outbox_oldest_age_seconds " + std::to_string(st->oldest_age.count() / 1000.0) +
           '\n';
    text.Header("anshin_outbox_messages", "Outbox rows by delivery state.", "gauge");
    const std::pair<const char*, std::int64_t> states[] = {{"queued", st->queued},
                                                           {"sending", st->sending},
                                                           {"sent", st->sent},
                                                           {"retrying", st->retrying},
                                                           {"failed", st->failed}};
    for (const auto& [name, n] : states) {
      out +=
          std::string("anshin_outbox_messages{state=\"") + name + "\"} " + std::to_string(n) + '\n';
    }
  }
  text.Header("anshin_store_up", "1 when the store answered the last metrics query.", "gauge");
  out += std::string("anshin_store_up ") + (st.ok() ? "1" : "0") + '\n';
  return out;
}

}  // namespace anshin::ingest
