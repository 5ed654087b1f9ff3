// AllowlistService: GET /v1/allowlist behind the network layer (DESIGN.md §5).
//
// Answers an agent's "what changed since version V" on a small pool of worker threads, each
// reading through its own read transaction (the store keeps a connection per concurrent
// reader), after checking the agent's identity as every agent request must. The allowlist
// lists the tokens of active and lost cards. The answer is the net change per token since V,
// or the whole list ("full") when V is 0, older than the oldest change kept, or a version this
// store never issued (the database was replaced).
//
// Thread-safety: Allowlist() may be called from any thread; `done` runs on a worker. The store
// must outlive the service; the destructor finishes queued requests first.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "notify-server/services.hpp"
#include "store/store.hpp"

namespace anshin::ingest {

// The delta from `since` to the store's current version, read in one snapshot.
Result<wire::AllowlistDelta> AllowlistDelta(store::ReadTxn& txn, std::uint64_t since);

class AllowlistService {
 public:
  AllowlistService(store::Store& store, int workers);
  ~AllowlistService();
  AllowlistService(const AllowlistService&) = delete;
  AllowlistService& operator=(const AllowlistService&) = delete;

  void Allowlist(server::Peer peer, std::uint64_t since,
                 std::function<void(Result<wire::AllowlistDelta>)> done);
  // Runs `task` on a worker (other read-only work that must stay off the network thread).
  void Post(std::function<void()> task);
  void Shutdown();  // finishes queued work; idempotent

 private:
  void WorkerLoop();

  store::Store& store_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::vector<std::thread> workers_;
};

}  // namespace anshin::ingest
