// Uplinker: moves queued taps from the AgentStore to the server, and keeps the allowlist fresh.
//
// Ward requirement 2 shapes it: it makes a connection only when there are taps to send (plus,
// once, the first allowlist fetch of a newly enrolled agent, and the daily health contact when
// enabled). In that one session it sends the queue in batches of up to `batch_size` taps in seq
// order, each with the agent's health, deletes exactly the taps each ACK covers
// (seq <= acked_through), and then refreshes the allowlist with GET /v1/allowlist?since=V.
//
// Failures: transient ones (network, 5xx) retry after an exponential backoff with jitter; a
// rejection (4xx) keeps the batch, is counted and reported in health (`rejected_batches`,
// `last_upload_error`) and retried only after `backoff_max`. Nothing is ever dropped.
//
// Run() is the body of the uplink thread; Notify() (any thread) says taps were committed.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "common/status.hpp"
#include "common/time.hpp"
#include "common/wire.hpp"
#include "reader-agent/agent_store.hpp"
#include "reader-agent/allowlist_cache.hpp"
#include "reader-agent/backoff.hpp"
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
    bool daily_health = false;
    std::string agent_version;
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
  // an empty batch) even when the queue is empty: the daily health contact. Public for tests.
  Status SyncOnce(bool contact);

 private:
  enum class Work { kNone, kSend, kAllowlist, kDailyHealth };
  Work WorkToDo();
  wire::Health BuildHealth();
  Status RefreshAllowlist(UplinkSession& session);
  void RecordFailure(const Status& s);

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
};

}  // namespace anshin::agent
