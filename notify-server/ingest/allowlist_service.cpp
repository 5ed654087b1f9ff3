#include "notify-server/ingest/allowlist_service.hpp"

#include <algorithm>

#include "notify-server/ingest/agent_identity.hpp"

namespace anshin::ingest {

Result<wire::AllowlistDelta> AllowlistDelta(store::ReadTxn& txn, std::uint64_t since) {
  wire::AllowlistDelta d;
  ANSHIN_ASSIGN_OR_RETURN(d.version, txn.cards().AllowlistVersion());
  if (since == d.version) return d;
  ANSHIN_ASSIGN_OR_RETURN(std::uint64_t oldest, txn.cards().OldestAllowlistVersion());
  if (since == 0 || since > d.version || since + 1 < oldest) {
    d.full = true;
    ANSHIN_ASSIGN_OR_RETURN(d.added, txn.cards().AllowlistTokens());
    ANSHIN_ASSIGN_OR_RETURN(d.lost, txn.cards().AllowlistLostSince(0));
    return d;
  }
  ANSHIN_ASSIGN_OR_RETURN(auto changes, txn.cards().AllowlistChangesSince(since));
  for (auto& [token, op] : changes) {
    (op == store::AllowlistOp::kAdd ? d.added : d.removed).push_back(std::move(token));
  }
  ANSHIN_ASSIGN_OR_RETURN(d.lost, txn.cards().AllowlistLostSince(since));
  return d;
}

AllowlistService::AllowlistService(store::Store& store, int workers) : store_(store) {
  for (int i = 0; i < std::max(1, workers); ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

AllowlistService::~AllowlistService() { Shutdown(); }

void AllowlistService::Shutdown() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) {
    if (t.joinable()) t.join();
  }
}

void AllowlistService::Post(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    tasks_.push_back(std::move(task));
  }
  cv_.notify_one();
}

void AllowlistService::WorkerLoop() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

void AllowlistService::Allowlist(server::Peer peer, std::uint64_t since,
                                 std::function<void(Result<wire::AllowlistDelta>)> done) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      done(Status::Unavailable("the server is shutting down"));
      return;
    }
  }
  Post([this, peer = std::move(peer), since, done = std::move(done)]() {
    done(store::InRead(store_, [&](store::ReadTxn& txn) -> Result<wire::AllowlistDelta> {
      ANSHIN_ASSIGN_OR_RETURN(std::optional<store::Agent> agent,
                              txn.agents().Find(peer.agent_name));
      ANSHIN_RETURN_IF_ERROR(CheckAgentIdentity(agent, peer));
      return AllowlistDelta(txn, since);
    }));
  });
}

}  // namespace anshin::ingest
