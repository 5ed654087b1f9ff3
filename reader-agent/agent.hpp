// Agent: the running reader agent — a reader thread and an uplink thread around one store.
//
//   reader thread:  ReaderSupervisor → OnTap: card token at once (the raw IDm goes no further),
//                   allowlist lookup, commit to the queue, then feedback; reader faults go to
//                   health and to the "reader_error" feedback. A card not in the allowlist
//                   first refreshes it when the last refresh is older than
//                   `uplink.unknown_card_refresh` (Uplinker::RefreshForUnknownCard), so that tap
//                   waits up to the uplink timeout; registered cards never wait on the network.
//   uplink thread:  Uplinker, woken by each committed tap.
//
// Owns the reader, the uplink, the store and the feedback. Start() once, Stop() once (from any
// thread; it joins both threads). OnTap and the health accessors are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <thread>

#include "common/time.hpp"
#include "common/types.hpp"
#include "reader-agent/agent_config.hpp"
#include "reader-agent/agent_store.hpp"
#include "reader-agent/allowlist_cache.hpp"
#include "reader-agent/card_reader.hpp"
#include "reader-agent/feedback.hpp"
#include "reader-agent/reader_supervisor.hpp"
#include "reader-agent/stop_signal.hpp"
#include "reader-agent/uplink.hpp"
#include "reader-agent/uplinker.hpp"

namespace anshin::agent {

// The agent's version as sent in health ("0.1.0").
std::string_view AgentVersion();

class Agent {
 public:
  static Result<std::unique_ptr<Agent>> Create(AgentConfig config,
                                               std::unique_ptr<CardReader> reader,
                                               std::unique_ptr<Uplink> uplink, const Clock& clock,
                                               std::ostream& console);
  ~Agent();

  void Start();
  void Stop();

  // The tap path: one new tap of `idm`, seen by the reader at `seen_at`.
  void OnTap(const Idm& idm, std::chrono::steady_clock::time_point seen_at);
  void OnReaderState(ReaderState state, const std::string& error);

 private:
  // For a token not in the allowlist: refreshes the allowlist when due and looks again.
  bool RegisteredSinceLastRefresh(const CardToken& token);

  Agent(AgentConfig config, std::unique_ptr<CardReader> reader, std::unique_ptr<Uplink> uplink,
        std::unique_ptr<AgentStore> store, const Clock& clock, std::ostream& console);

  const AgentConfig config_;
  const CardKey card_key_;
  const Clock& clock_;
  std::unique_ptr<CardReader> reader_;
  std::unique_ptr<Uplink> uplink_;
  std::unique_ptr<AgentStore> store_;
  AllowlistCache allowlist_;
  Feedback feedback_;
  Uplinker uplinker_;
  ReaderSupervisor supervisor_;
  StopSignal stop_;

  std::mutex reader_mu_;
  ReaderState reader_state_ = ReaderState::kStarting;  // guarded by reader_mu_
  std::string reader_error_;                           // guarded by reader_mu_

  std::thread reader_thread_;
  std::thread uplink_thread_;
  bool started_ = false;
};

}  // namespace anshin::agent
