#include "reader-agent/uplinker.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "common/sys/logging.hpp"

namespace anshin::agent {
namespace {

constexpr Millis kDay = std::chrono::hours(24);
// With the heartbeat on and nothing else to do, the uplink thread looks at the clock this often
// (no connection: only to notice that the heartbeat became due).
constexpr Millis kHeartbeatCheck = std::chrono::minutes(1);

}  // namespace

Uplinker::Uplinker(AgentStore& store, Uplink& uplink, AllowlistCache& allowlist, const Clock& clock,
                   Options options, ReaderHealthFn reader_health)
    : store_(store),
      uplink_(uplink),
      allowlist_(allowlist),
      clock_(clock),
      options_(std::move(options)),
      reader_health_(std::move(reader_health)),
      backoff_(
          options_.backoff_min, options_.backoff_max,
          static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())) {
}

Status Uplinker::Init() {
  ANSHIN_ASSIGN_OR_RETURN(auto list, store_.LoadAllowlist());
  ANSHIN_ASSIGN_OR_RETURN(auto fetched_at, store_.GetInt(meta::kAllowlistFetchedAt));
  std::lock_guard lock(allowlist_mu_);
  allowlist_.Replace(list.tokens, list.lost, list.version, list.fetched);
  if (list.fetched && fetched_at) last_refresh_ = FromUnixMillis(*fetched_at);
  return Status::Ok();
}

void Uplinker::Notify() {
  {
    std::lock_guard lock(mu_);
    notified_ = true;
  }
  cv_.notify_one();
}

void Uplinker::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
}

Uplinker::Work Uplinker::WorkToDo() {
  auto queue = store_.Queue();
  if (!queue.ok() || queue->depth > 0) return Work::kSend;  // a store error: try, and report
  if (!allowlist_.fetched()) return Work::kAllowlist;
  if (HeartbeatDue()) return Work::kHeartbeat;
  return Work::kNone;
}

bool Uplinker::HeartbeatDue() {
  if (!options_.heartbeat.enabled()) return false;
  auto time_of = [this](const char* key) -> std::optional<TimePoint> {
    auto v = store_.GetInt(key);
    if (!v.ok() || !v->has_value()) return std::nullopt;
    return FromUnixMillis(**v);
  };
  TimePoint now = clock_.Now();
  int offset = options_.utc_offset ? options_.utc_offset(now) : sys::LocalUtcOffset(now);
  return options_.heartbeat.Due(now, offset, time_of(meta::kLastContactAt),
                                time_of(meta::kLastHeartbeatAt));
}

Status Uplinker::DoWork(Work work) {
  if (work != Work::kHeartbeat) return SyncOnce(false);
  // The attempt counts before it is made: a failing server is not asked again until the next
  // interval (the heartbeat never retries on the upload's backoff).
  ANSHIN_RETURN_IF_ERROR(store_.SetInt(meta::kLastHeartbeatAt, ToUnixMillis(clock_.Now())));
  Status s = SyncOnce(true);
  if (s.ok()) {
    sys::LogEvent(spdlog::level::info, "heartbeat",
                  {{"agent", options_.agent_name}, {"result", "sent"}});
  } else {
    sys::LogEvent(spdlog::level::warn, "heartbeat",
                  {{"agent", options_.agent_name},
                   {"result", "failed"},
                   {"error", s.message()},
                   {"next_in_s", options_.heartbeat.interval.count() / 1000}});
  }
  return s;
}

Result<bool> Uplinker::RunDueWork() {
  Work work = WorkToDo();
  if (work == Work::kNone) return false;
  ANSHIN_RETURN_IF_ERROR(DoWork(work));
  return true;
}

void Uplinker::Run(StopSignal& stop) {
  using Steady = std::chrono::steady_clock;
  Steady::time_point next_attempt = Steady::now();
  while (!stop.stopped()) {
    Work work = WorkToDo();
    if (work != Work::kNone && Steady::now() >= next_attempt) {
      {
        std::lock_guard lock(mu_);
        notified_ = false;
      }
      Status s = DoWork(work);
      if (s.ok()) {
        backoff_.Reset();
        next_attempt = Steady::now();
        continue;
      }
      Millis wait = IsRejection(s) ? options_.backoff_max : backoff_.Next();
      if (work != Work::kHeartbeat) {  // DoWork logged the heartbeat's failure
        sys::LogEvent(spdlog::level::warn, "upload",
                      {{"agent", options_.agent_name},
                       {"result", IsRejection(s) ? "rejected" : "failed"},
                       {"error", s.message()},
                       {"retry_in_ms", wait.count()}});
      }
      next_attempt = Steady::now() + wait;
      continue;
    }
    std::unique_lock lock(mu_);
    // With work pending, sleep until the backoff ends; otherwise until a tap arrives (and, with
    // the heartbeat on, at most kHeartbeatCheck or its interval, to look at the clock again).
    auto wake = [this, &stop] { return notified_ || stopping_ || stop.stopped(); };
    if (work != Work::kNone) {
      cv_.wait_until(lock, next_attempt, wake);
    } else {
      Millis sleep = options_.heartbeat.enabled()
                         ? std::min(kHeartbeatCheck, options_.heartbeat.interval)
                         : kDay;
      cv_.wait_for(lock, sleep, wake);
    }
    if (stopping_) break;
    notified_ = false;
  }
}

wire::Health Uplinker::BuildHealth() {
  wire::Health h;
  reader_health_(h);
  TimePoint now = clock_.Now();
  if (auto q = store_.Queue(); q.ok()) {
    h.queue_depth = q->depth;
    if (q->oldest_at) {
      h.oldest_unsent_s = std::chrono::duration_cast<Seconds>(now - *q->oldest_at).count();
    }
  }
  h.agent_version = options_.agent_version;
  h.local_clock = now;
  if (auto v = store_.GetInt(meta::kUnknownTaps); v.ok() && *v) {
    h.unknown_taps = static_cast<std::uint64_t>(**v);
  }
  if (auto v = store_.GetInt(meta::kRejectedBatches); v.ok() && *v) {
    h.rejected_batches = static_cast<std::uint64_t>(**v);
  }
  if (auto v = store_.GetInt(meta::kRejectedTaps); v.ok() && *v) {
    h.rejected_taps = static_cast<std::uint64_t>(**v);
  }
  if (auto v = store_.GetText(meta::kLastUploadError); v.ok() && *v) h.last_upload_error = **v;
  return h;
}

// The server keeps such taps for staff and never mails them; the facility should know (a PC
// clock days off, a reader stamping nonsense): counted, logged and shown by `status`.
void Uplinker::RecordRejectedTaps(const wire::TapAck& ack, TimePoint now) {
  for (const wire::RejectedTap& r : ack.rejected) {
    sys::LogEvent(
        spdlog::level::warn, "tap_rejected",
        {{"agent", options_.agent_name}, {"seq", r.seq}, {"field", r.field}, {"error", r.error}});
    if (Status s = store_.Increment(meta::kRejectedTaps).status(); !s.ok())
      spdlog::warn("counting a rejected tap failed: {}", s.message());
  }
  if (ack.rejected.empty()) return;
  const wire::RejectedTap& last = ack.rejected.back();
  (void)store_.SetText(meta::kLastRejectedTap,
                       "seq " + std::to_string(last.seq) + " " + last.error);
  (void)store_.SetInt(meta::kLastRejectedTapAt, ToUnixMillis(now));
}

void Uplinker::RecordFailure(const Status& s) {
  (void)store_.SetText(meta::kLastUploadError, s.message());
  (void)store_.SetText(meta::kLastError, s.message());
  (void)store_.SetInt(meta::kLastErrorAt, ToUnixMillis(clock_.Now()));
  if (IsRejection(s)) (void)store_.Increment(meta::kRejectedBatches);
}

Status Uplinker::RefreshAllowlist(UplinkSession& session) {
  std::uint64_t since = allowlist_.fetched() ? allowlist_.version() : 0;
  auto delta = session.FetchAllowlist(since);
  if (!delta.ok()) return delta.status();
  TimePoint now = clock_.Now();
  (void)store_.SetInt(meta::kLastContactAt, ToUnixMillis(now));
  std::lock_guard lock(allowlist_mu_);
  if (allowlist_.fetched() && allowlist_.version() != since &&
      delta->version < allowlist_.version()) {
    // The other thread applied a newer list while this answer was on its way: keep that one.
    last_refresh_ = now;
    return Status::Ok();
  }
  ANSHIN_RETURN_IF_ERROR(store_.ApplyAllowlist(*delta, now));
  ANSHIN_ASSIGN_OR_RETURN(auto list, store_.LoadAllowlist());
  allowlist_.Replace(list.tokens, list.lost, list.version, list.fetched);
  last_refresh_ = now;
  if (delta->full || !delta->added.empty() || !delta->removed.empty()) {
    spdlog::info("allowlist version {}: {} cards", list.version, list.tokens.size());
  }
  return Status::Ok();
}

Result<bool> Uplinker::RefreshForUnknownCard() {
  const Millis interval = options_.unknown_card_refresh;
  if (interval <= Millis(0)) return false;
  {
    TimePoint now = clock_.Now();
    // A time in the future means the wall clock was set back: that does not hold refreshes off.
    auto recent = [&](const std::optional<TimePoint>& t) {
      return t && now >= *t && now - *t < interval;
    };
    std::lock_guard lock(allowlist_mu_);
    if (recent(last_refresh_) || recent(last_unknown_attempt_)) return false;
    last_unknown_attempt_ = now;
  }
  std::unique_ptr<UplinkSession> session = uplink_.Begin();
  ANSHIN_RETURN_IF_ERROR(RefreshAllowlist(*session));
  return true;
}

Status Uplinker::SyncOnce(bool contact) {
  std::unique_ptr<UplinkSession> session = uplink_.Begin();
  bool posted = false;
  for (;;) {
    auto taps = store_.PendingTaps(options_.batch_size);
    if (!taps.ok()) return taps.status();
    if (taps->empty() && (posted || !contact)) break;
    wire::TapBatch batch;
    batch.agent = options_.agent_name;
    batch.sent_at = clock_.Now();
    batch.taps = std::move(*taps);
    batch.health = BuildHealth();
    auto ack = session->PostTaps(batch);
    if (!ack.ok()) {
      RecordFailure(ack.status());
      return ack.status();
    }
    posted = true;
    TimePoint now = clock_.Now();
    (void)store_.SetInt(meta::kLastContactAt, ToUnixMillis(now));
    if (ack->gap) {
      spdlog::warn("server reports missing taps {}..{}", ack->gap->from, ack->gap->to);
    }
    if (batch.taps.empty()) break;
    RecordRejectedTaps(*ack, now);
    ANSHIN_ASSIGN_OR_RETURN(std::uint64_t deleted, store_.DeleteThrough(ack->acked_through));
    sys::LogEvent(spdlog::level::info, "upload",
                  {{"agent", options_.agent_name},
                   {"result", "ok"},
                   {"taps", batch.taps.size()},
                   {"first_seq", batch.taps.front().seq},
                   {"last_seq", batch.taps.back().seq},
                   {"acked_through", ack->acked_through}});
    (void)store_.SetInt(meta::kLastUploadOkAt, ToUnixMillis(now));
    (void)store_.SetText(meta::kLastUploadError, "");
    if (deleted == 0) {
      Status s = Status::Unavailable(
          "server acknowledged through " + std::to_string(ack->acked_through) +
          ", before the first queued tap " + std::to_string(batch.taps.front().seq));
      RecordFailure(s);
      return s;
    }
  }
  if (!posted && allowlist_.fetched()) return Status::Ok();
  Status s = RefreshAllowlist(*session);
  if (!s.ok()) {
    RecordFailure(s);
    // Taps already acknowledged stay acknowledged; a failed refresh only matters at first start.
    if (!allowlist_.fetched()) return s;
    spdlog::warn("allowlist refresh failed: {}", s.message());
  }
  return Status::Ok();
}

}  // namespace anshin::agent
