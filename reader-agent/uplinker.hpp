// Uplinker: moves queued taps from the AgentStore to the server, and keeps the allowlist fresh.
//
// Ward requirement 2 shapes it: it makes a connection only when there are taps to send (plus,
// once, the first allowlist fetch of a newly enrolled agent, and the heartbeat when enabled:
// a health-only upload at most once per interval within opening hours, HeartbeatSchedule). In that
// one session it sends the queue in batches of up to `batch_size` taps in seq order, each with the
// agent's health, deletes exactly the taps each ACK covers (seq <= acked_through), and then
// refreshes the allowlist with GET /v1/allowlist?since=V.
//
// A tap of a card not in the allowlist may also refresh it (RefreshForUnknownCard, on the reader
// thread): a card issued since the last refresh is then accepted on its first tap. That is a
// connection caused by a tap, rate-limited to one per `unknown_card_refresh`, so a stranger's
// card tapped again and again costs at most one connection per interval.
//
// Failures: transient ones (network, 5xx) retry after an exponential backoff with jitter; a
// rejection (4xx) keeps the batch, is counted and reported in health (`rejected_batches`,
// `last_upload_error`) and retried only after `backoff_max`. Nothing is ever dropped. A failed
// unknown-card refresh is only returned to the caller: it leaves the upload's backoff and
// error fields alone.
//
// Run() is the body of the uplink thread; Notify() (any thread) says taps were committed;
// RefreshForUnknownCard() runs on the reader thread, in a session of its own, concurrently with
// Run(). Applying a fetched allowlist is serialised, and a list older than the one at hand
// (fetched concurrently) is not applied.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "common/status.hpp"
#include "common/time.hpp"
#include "common/wire.hpp"
#include "reader-agent/agent_store.hpp"
#include "reader-agent/allowlist_cache.hpp"
#include "reader-agent/backoff.hpp"
#include "reader-agent/heartbeat.hpp"
#include "reader-agent/stop_signal.hpp"
#include "reader-agent/uplink.hpp"

namespace anshin::agent {

class Uplinker {
 public:
  struct Options {
    std::string agent_name;
    std::size_t batch_size = 100;
    Millis backoff_min{1000};
    Millis backoff_max{300'000};
    HeartbeatSchedule heartbeat;  // off by default
    // Seconds east of UTC at an instant, for the heartbeat's opening hours; empty = the
    // process's local zone (sys::LocalUtcOffset).
    std::function<int(TimePoint)> utc_offset;
    std::string agent_version;
    // Minimum age of the allowlist before an unknown card refreshes it; 0 disables.
    Millis unknown_card_refresh{600'000};
  };
  // Reader health for the upload (`reader_state`, `reader_error`); called on the uplink thread.
  using ReaderHealthFn = std::function<void(wire::Health&)>;

  Uplinker(AgentStore& store, Uplink& uplink, AllowlistCache& allowlist, const Clock& clock,
           Options options, ReaderHealthFn reader_health);

  // Loads the allowlist from the store into the cache.
  Status Init();
  void Notify();
  void Run(StopSignal& stop);
  void Stop();  // wakes Run(); with stop signalled it returns

  // One session: sends the whole queue, refreshes the allowlist. `contact` forces a POST (with
  // an empty batch) even when the queue is empty: the heartbeat. Public for tests.
  Status SyncOnce(bool contact);

  // One turn of Run() without its waiting: does the work that is due now (the queue, the first
  // allowlist fetch, or a heartbeat), if any. Returns false when nothing was due, the session's
  // error when it failed. Public for tests, which drive it with a fake clock.
  Result<bool> RunDueWork();

  // For a tapped card not in the allowlist: when enabled and neither a refresh nor an earlier
  // attempt of this kind happened within `unknown_card_refresh`, fetches the allowlist now (one
  // connection, bounded by the uplink's timeout) and applies it. Returns true when it refreshed,
  // false when not due or disabled, an error when the fetch or the store failed (the attempt
  // still counts for the rate limit). Any thread; meant for the reader thread.
  Result<bool> RefreshForUnknownCard();

 private:
  enum class Work { kNone, kSend, kAllowlist, kHeartbeat };
  Work WorkToDo();
  bool HeartbeatDue();
  Status DoWork(Work work);
  wire::Health BuildHealth();
  Status RefreshAllowlist(UplinkSession& session);
  void RecordFailure(const Status& s);
  void RecordRejectedTaps(const wire::TapAck& ack, TimePoint now);

  AgentStore& store_;
  Uplink& uplink_;
  AllowlistCache& allowlist_;
  const Clock& clock_;
  Options options_;
  ReaderHealthFn reader_health_;
  Backoff backoff_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool notified_ = false;  // guarded by mu_
  bool stopping_ = false;  // guarded by mu_

  // Serialises applying a fetched allowlist (store + cache) and guards the times below.
  std::mutex allowlist_mu_;
  std::optional<TimePoint> last_refresh_;          // last successful fetch (stored across runs)
  std::optional<TimePoint> last_unknown_attempt_;  // last RefreshForUnknownCard connection
};

}  // namespace anshin::agent
